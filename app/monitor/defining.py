"""The coordinator's definitions of the monitor: add an indicator (a key figure) to a
programme, correct its definition, and link it to the programme's results it says something
about. Audited; services flush and never commit; coordinators (and admins) only.

A refusal about one field is a `FieldInvalid` naming it (the form shows it beside the field).
Editing carries the fingerprint of what the coordinator saw (`fingerprint`): if someone saved
in between, `EditedMeanwhile` (409) and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlmodel import Session, col

from app.accounts.models import Role
from app.accounts.service import CurrentUser
from app.audit import service as audit
from app.audit.models import AuditAction
from app.errors import Forbidden
from app.i18n import gettext
from app.ids import id_of
from app.monitor.models import Indicator, IndicatorResult
from app.monitor.values import Unit
from app.programmes.models import Organisation, Result
from app.recommendations.editing import EditedMeanwhile, FieldInvalid

__all__ = ["EditedMeanwhile", "FieldInvalid", "fingerprint", "linked_results", "save_indicator"]


def linked_results(session: Session, indicator_id: int) -> list[int]:
    return sorted(
        session.scalars(
            select(col(IndicatorResult.result_id)).where(
                col(IndicatorResult.indicator_id) == indicator_id
            )
        )
    )


def fingerprint(session: Session, indicator: Indicator) -> str:
    """What a coordinator editing this indicator sees, as one short string: any save changes
    it."""
    seen = [
        indicator.code,
        indicator.name_nl,
        indicator.name_en,
        str(indicator.unit),
        indicator.definition,
        indicator.supplier_id,
        linked_results(session, id_of(indicator)),
    ]
    return hashlib.sha256(json.dumps(seen).encode()).hexdigest()[:20]


def save_indicator(
    session: Session,
    *,
    programme_id: int,
    indicator_id: int | None,
    code: str,
    name_nl: str,
    name_en: str,
    unit: str,
    definition: str,
    supplier_id: str,
    result_ids: Sequence[str],
    seen: str,
    actor: CurrentUser,
    address: str = "",
) -> Indicator:
    """Add (indicator_id None) or change an indicator of the programme and its links to the
    programme's results (the given ones, exactly). A change is refused if someone saved since
    `seen`."""
    if not actor.at_least(Role.coordinator):
        raise Forbidden(gettext("Only coordinators may define the monitor's indicators."))
    existing = session.get(Indicator, indicator_id) if indicator_id is not None else None
    if existing is not None and seen != fingerprint(session, existing):
        raise EditedMeanwhile(
            gettext(
                "Someone else changed this indicator after you opened the form. Nothing was "
                "saved: the form now shows their version; make your change again."
            )
        )
    code = code.strip()
    if not code:
        raise FieldInvalid("code", gettext("Give the indicator a code (unique in the programme)."))
    if len(code) > 100:
        raise FieldInvalid("code", gettext("A code is at most 100 characters."))
    clash = session.scalar(
        select(col(Indicator.id)).where(
            col(Indicator.programme_id) == programme_id, col(Indicator.code) == code
        )
    )
    if clash is not None and clash != indicator_id:
        raise FieldInvalid(
            "code",
            gettext("The programme has an indicator with the code %(code)s already.")
            % {"code": code},
        )
    name_nl = " ".join(name_nl.split())
    if not name_nl:
        raise FieldInvalid("name_nl", gettext("Give the indicator its Dutch name."))
    name_en = " ".join(name_en.split())
    for field, name in (("name_nl", name_nl), ("name_en", name_en)):
        if len(name) > 300:
            raise FieldInvalid(field, gettext("A name is at most 300 characters."))
    try:
        chosen_unit = Unit(unit)
    except ValueError:
        raise FieldInvalid("unit", gettext("Choose the unit of its figures.")) from None
    supplier: int | None = None
    if supplier_id.strip():
        raw = supplier_id.strip()
        if not raw.isdigit() or session.get(Organisation, int(raw)) is None:
            raise FieldInvalid("supplier_id", gettext("Choose an organisation from the list."))
        supplier = int(raw)
    results: list[Result] = []
    for raw in dict.fromkeys(item.strip() for item in result_ids if item.strip()):
        result = session.get(Result, int(raw)) if raw.isdigit() else None
        if result is None or result.programme_id != programme_id:
            raise FieldInvalid("result_ids", gettext("Choose results of this programme only."))
        results.append(result)
    before = None if existing is None else linked_results(session, id_of(existing))
    indicator = existing or Indicator(
        programme_id=programme_id, code=code, name_nl=name_nl, name_en=name_en, unit=chosen_unit
    )
    indicator.code = code
    indicator.name_nl = name_nl
    indicator.name_en = name_en or name_nl
    indicator.unit = chosen_unit
    indicator.definition = definition.strip()
    indicator.supplier_id = supplier
    session.add(indicator)
    session.flush()
    session.execute(
        delete(IndicatorResult).where(col(IndicatorResult.indicator_id) == id_of(indicator))
    )
    for result in results:
        session.add(IndicatorResult(indicator_id=id_of(indicator), result_id=id_of(result)))
    session.flush()
    after = sorted(id_of(result) for result in results)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.indicator_update if existing else AuditAction.indicator_create,
        object_type="indicator",
        object_id=id_of(indicator),
        summary=f"{code}: {indicator.name_nl}",
        # The whole definition as saved: the audit trail (append-only) is the indicator's
        # history, so an edited name or definition is never lost.
        details={
            "code": code,
            "name_nl": indicator.name_nl,
            "name_en": indicator.name_en,
            "definition": indicator.definition,
            "unit": chosen_unit.value,
            "supplier_id": supplier,
            "results": sorted(result.number for result in results),
            **({"results_before": before} if before is not None and before != after else {}),
        },
        address=address,
    )
    return indicator
