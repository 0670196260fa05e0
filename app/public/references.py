"""References in explanations, linked to their public source.

Explanations cite parliamentary papers the way civil servants write them: a dossier and
number ("28638, nr. 178", "28 638, nr. 165", "TK 29754, nr 619", "Kamerstuk 28638-178"), a
Tweede Kamer case or document number ("Kamerstuk 2020Z19175", "kenmerk: 2021D40459"), or a
motion by the names of its movers ("motie-Kuik", "motie Kuik/Voordewind", "motie van het lid
Van der Graaf"). `link_references` turns them, and plain web addresses, into links.

The text is never trusted: it is cut into pieces around the matches, every piece is escaped
by markupsafe, and each address is built from the matched digits or (for a motion) from the
names passed through URL quoting, so no character of the text reaches the HTML unescaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote_plus

from markupsafe import Markup, escape

OFFICIAL_PUBLICATIONS = "https://zoek.officielebekendmakingen.nl/kst-{dossier}-{number}"
PARLIAMENT_DETAIL = "https://www.tweedekamer.nl/kamerstukken/detail?id={id}"
PARLIAMENT_MOTIONS = "https://www.tweedekamer.nl/kamerstukken/moties?qry={query}"

# A Dutch surname with its particles: "Kuik", "Van der Graaf", "Segers", "Van Nispen",
# "in 't Veld". Particles are lower case after a first name, capitalised without one.
_PARTICLE = r"(?:[Vv]an|[Dd]e|[Dd]er|[Dd]en|[Hh]et|[Tt]er?|[Tt]en|[Ii]n\s+'t|[Ii]n\s+’t)"
_SURNAME = rf"(?:{_PARTICLE}\s+)*[A-Z][a-zà-ÿ’']+(?:-[A-Z][a-zà-ÿ’']+)*"
# Several movers: "Kuik/Voordewind", "Segers – Asscher", "Segers Buitenweg", "Kuik en Voordewind".
_MOVERS = rf"{_SURNAME}(?:(?:\s*[/–-]\s*|\s+en\s+|\s+){_SURNAME})*"

_PATTERN = re.compile(
    "|".join(
        (
            # "Kamerstuk 28638-178" (dossier-number, as in the official publication's id)
            r"(?P<kst>\bKamerstuk(?:ken)?\s+(?P<kst_dossier>\d{5})-(?P<kst_number>\d{1,4})\b)",
            # "28638, nr. 178", "28 638, nr. 165", "28638, nr 172", "35 300 VI, nr. 25"
            r"(?P<paper>\b(?P<dossier>\d{2}\s?\d{3})(?:[\s-](?P<part>[IVXLC]+|[A-Z]))?"
            r"(?:\s*,\s*|\s+)nr\.?\s*(?P<number>\d{1,4})\b)",
            # "2020Z19175" (a case), "2021D40459" (a document)
            r"(?P<case>\b\d{4}[ZD]\d{5}\b)",
            # "motie-Kuik", "motie Kuik/Voordewind", "motie van het lid Van der Graaf"
            r"(?P<motion>\b[Mm]otie(?:\s+van\s+(?:het\s+lid|de\s+leden))?(?:-|\s+)"
            rf"(?P<movers>{_MOVERS}))",
            # A web address, without the punctuation that ends the sentence around it.
            r"(?P<url>\bhttps?://[^\s<>\"'()]+[^\s<>\"'().,;:!?’”])",
        )
    )
)


@dataclass(frozen=True)
class Reference:
    text: str  # as written in the explanation
    url: str


def _url(match: re.Match[str]) -> str:
    if match["kst"]:
        return OFFICIAL_PUBLICATIONS.format(
            dossier=match["kst_dossier"], number=int(match["kst_number"])
        )
    if match["paper"]:
        dossier = match["dossier"].replace(" ", "")
        if match["part"]:
            dossier += "-" + match["part"]
        return OFFICIAL_PUBLICATIONS.format(dossier=dossier, number=int(match["number"]))
    if match["case"]:
        return PARLIAMENT_DETAIL.format(id=match["case"])
    if match["motion"]:
        names = re.split(r"\s*[/–-]\s*|\s+en\s+|\s+", match["movers"])
        return PARLIAMENT_MOTIONS.format(query=quote_plus(" ".join(names)))
    return match["url"]


def find_references(text: str) -> list[Reference]:
    """The references in `text`, in order."""
    return [Reference(match.group(0), _url(match)) for match in _PATTERN.finditer(text)]


def link_references(text: str) -> Markup:
    """`text` as HTML: escaped, with every recognised reference a link to its source."""
    pieces: list[Markup] = []
    position = 0
    for match in _PATTERN.finditer(text):
        pieces.append(escape(text[position : match.start()]))
        # A web address written out is its own link text: marked, so print leaves it alone.
        kind = " reference-link--address" if match["url"] else ""
        pieces.append(
            Markup('<a class="nl-link reference-link{0}" href="{1}">{2}</a>').format(
                kind, _url(match), match.group(0)
            )
        )
        position = match.end()
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)
