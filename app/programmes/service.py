"""Changing a programme's structure: add, rename, reorder, retire and restore action lines,
themes, results and activities. Nothing is deleted, so no history is lost; every change is
audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from app.accounts.service import CurrentUser
from app.audit import service as audit
from app.audit.models import AuditAction
from app.clock import utc_now
from app.errors import InvalidInput, NotFound
from app.i18n import gettext
from app.ids import id_of
from app.programmes.models import (
    ActionLine,
    Activity,
    ActivityOrganisation,
    Organisation,
    OrganisationRole,
    Programme,
    Result,
    Theme,
)

# The parts of a programme, from the top down.
Part = ActionLine | Theme | Result | Activity
KINDS: dict[str, type[Part]] = {
    "action_line": ActionLine,
    "theme": Theme,
    "result": Result,
    "activity": Activity,
}
# The column that groups siblings: reordering swaps places among them.
PARENT = {
    "action_line": "programme_id",
    "theme": "action_line_id",
    "result": "theme_id",
    "activity": "result_id",
}
MAX_TITLE = {"action_line": 500, "theme": 500, "result": 500, "activity": 1000}


def _get(session: Session, kind: str, item_id: int) -> Any:
    model = KINDS.get(kind)
    item = session.get(model, item_id) if model else None
    if item is None:
        raise NotFound(gettext("This part of the programme does not exist"))
    return item


def _title(kind: str, title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise InvalidInput(gettext("A title is required"))
    if len(title) > MAX_TITLE[kind]:
        raise InvalidInput(
            gettext("A title has at most %(max)d characters") % {"max": MAX_TITLE[kind]}
        )
    return title


def _audit(
    session: Session,
    actor: CurrentUser,
    action: AuditAction,
    kind: str,
    item: Any,
    summary: str,
    address: str,
    **details: Any,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type=kind,
        object_id=item.id,
        summary=summary,
        details=details,
        address=address,
    )


def rename(
    session: Session, *, actor: CurrentUser, kind: str, item_id: int, title: str, address: str = ""
) -> Any:
    item = _get(session, kind, item_id)
    new_title = _title(kind, title)
    old_title = item.title
    if new_title != old_title:
        item.title = new_title
        session.flush()
        _audit(
            session,
            actor,
            AuditAction.structure_rename,
            kind,
            item,
            f"{old_title} → {new_title}",
            address,
            **{"from": old_title, "to": new_title},
        )
    return item


def move(
    session: Session,
    *,
    actor: CurrentUser,
    kind: str,
    item_id: int,
    direction: str,
    address: str = "",
) -> Any:
    """Swap places with the previous ("up") or next ("down") sibling."""
    item = _get(session, kind, item_id)
    model = KINDS[kind]
    parent = getattr(model, PARENT[kind])
    position = col(model.position)
    # select() of a union of models is typed as SQLModel; the rows are of `model`.
    query: Select[Any] = select(model).where(parent == getattr(item, PARENT[kind]))
    if direction == "up":
        neighbour = session.scalars(
            query.where(position < item.position).order_by(position.desc()).limit(1)
        ).first()
    elif direction == "down":
        neighbour = session.scalars(
            query.where(position > item.position).order_by(position).limit(1)
        ).first()
    else:
        raise InvalidInput(gettext("Move up or down"))
    if neighbour is None:
        return item
    mine, theirs = item.position, neighbour.position
    # Through a free value: (parent, position) is unique for themes and activities.
    item.position = -1
    session.flush()
    neighbour.position = mine
    session.flush()
    item.position = theirs
    session.flush()
    _audit(
        session,
        actor,
        AuditAction.structure_move,
        kind,
        item,
        f"{item.title}: {direction}",
        address,
        direction=direction,
    )
    return item


def set_retired(
    session: Session,
    *,
    actor: CurrentUser,
    kind: str,
    item_id: int,
    retired: bool,
    address: str = "",
) -> Any:
    item = _get(session, kind, item_id)
    if retired and item.retired_at is None:
        item.retired_at = utc_now()
    elif not retired and item.retired_at is not None:
        item.retired_at = None
    else:
        return item
    session.flush()
    _audit(
        session,
        actor,
        AuditAction.structure_retire if retired else AuditAction.structure_restore,
        kind,
        item,
        item.title,
        address,
    )
    return item


def _next_position(session: Session, model: Any, parent_column: Any, parent_id: int) -> int:
    highest = session.scalar(select(func.max(model.position)).where(parent_column == parent_id))
    return (highest or 0) + 1


def add(
    session: Session,
    *,
    actor: CurrentUser,
    programme: Programme | Any,
    kind: str,
    parent_id: int | None,
    title: str,
    number: str = "",
    lead: str = "",
    address: str = "",
) -> Any:
    """Add an item at the end of its parent. Action lines and results need a number that is
    unique in the programme; an activity may have a label ("3", "2.1") and a lead."""
    clean_title = _title(kind, title) if kind in KINDS else ""
    if kind == "action_line":
        line_number = _number(number)
        if session.scalar(
            select(col(ActionLine.id)).where(
                col(ActionLine.programme_id) == programme.id, col(ActionLine.number) == line_number
            )
        ):
            raise InvalidInput(
                gettext("Action line %(number)s already exists") % {"number": line_number}
            )
        item: Any = ActionLine(
            programme_id=id_of(programme),
            number=line_number,
            title=clean_title,
            position=_next_position(
                session, ActionLine, col(ActionLine.programme_id), id_of(programme)
            ),
        )
    elif kind == "theme":
        line = _parent(session, ActionLine, parent_id, id_of(programme))
        item = Theme(
            action_line_id=line.id,
            title=clean_title,
            position=_next_position(session, Theme, col(Theme.action_line_id), line.id),
        )
    elif kind == "result":
        theme = session.get(Theme, parent_id or 0)
        line = session.get(ActionLine, theme.action_line_id) if theme else None
        if theme is None or line is None or line.programme_id != programme.id:
            raise NotFound(gettext("This part of the programme does not exist"))
        result_number = _number(number)
        if session.scalar(
            select(col(Result.id)).where(
                col(Result.programme_id) == programme.id, col(Result.number) == result_number
            )
        ):
            raise InvalidInput(
                gettext("Result %(number)s already exists") % {"number": result_number}
            )
        item = Result(
            programme_id=programme.id,
            theme_id=id_of(theme),
            number=result_number,
            title=clean_title,
            position=result_number,
        )
    elif kind == "activity":
        result = _parent(session, Result, parent_id, id_of(programme))
        label = number.strip() or None
        if label and len(label) > 20:
            raise InvalidInput(gettext("A number has at most 20 characters"))
        if label and session.scalar(
            select(col(Activity.id)).where(
                col(Activity.result_id) == result.id, col(Activity.label) == label
            )
        ):
            raise InvalidInput(
                gettext("Activity %(label)s already exists in this result") % {"label": label}
            )
        item = Activity(
            result_id=result.id,
            label=label,
            title=clean_title,
            position=_next_position(session, Activity, col(Activity.result_id), result.id),
        )
    else:
        raise InvalidInput(gettext("Unknown kind of item"))
    session.add(item)
    session.flush()
    if kind == "activity" and lead.strip():
        organisation = session.scalar(
            select(Organisation).where(col(Organisation.code) == lead.strip())
        )
        if organisation is None:
            raise InvalidInput(gettext("Unknown organisation: %(codes)s") % {"codes": lead})
        session.add(
            ActivityOrganisation(
                activity_id=item.id, organisation_id=id_of(organisation), role=OrganisationRole.lead
            )
        )
        session.flush()
    _audit(
        session,
        actor,
        AuditAction.structure_add,
        kind,
        item,
        clean_title,
        address,
        number=number,
        lead=lead,
    )
    return item


def _number(value: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(gettext("A number is required (a whole number)")) from None
    if number < 1:
        raise InvalidInput(gettext("A number is required (a whole number)"))
    return number


def _parent(session: Session, model: Any, parent_id: int | None, programme_id: int) -> Any:
    parent = session.get(model, parent_id or 0)
    if parent is None or getattr(parent, "programme_id", programme_id) != programme_id:
        raise NotFound(gettext("This part of the programme does not exist"))
    return parent


def create_organisation(
    session: Session, *, actor: CurrentUser, code: str, name: str, address: str = ""
) -> Organisation:
    code, name = code.strip(), " ".join(name.split())
    if not code or len(code) > 50 or not name or len(name) > 300:
        raise InvalidInput(
            gettext("An organisation needs a code (at most 50 characters) and a name")
        )
    if session.scalar(select(col(Organisation.id)).where(col(Organisation.code) == code)):
        raise InvalidInput(gettext("Organisation %(code)s already exists") % {"code": code})
    organisation = Organisation(code=code, name=name)
    session.add(organisation)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.organisation_create,
        object_type="organisation",
        object_id=organisation.id,
        summary=f"{code}: {name}",
        address=address,
    )
    return organisation


def rename_organisation(
    session: Session, *, actor: CurrentUser, organisation_id: int, name: str, address: str = ""
) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(gettext("No such organisation"))
    name = " ".join(name.split())
    if not name or len(name) > 300:
        raise InvalidInput(
            gettext("An organisation needs a code (at most 50 characters) and a name")
        )
    old = organisation.name
    organisation.name = name
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.organisation_rename,
        object_type="organisation",
        object_id=organisation.id,
        summary=f"{old} → {name}",
        address=address,
    )
    return organisation


def structure_tree(session: Session, programme_id: int) -> list[dict[str, Any]]:
    """The whole structure, retired items included, in order: four queries."""
    lines = session.scalars(
        select(ActionLine)
        .where(col(ActionLine.programme_id) == programme_id)
        .order_by(col(ActionLine.position))
    ).all()
    line_ids = [line.id for line in lines]
    themes = session.scalars(
        select(Theme).where(col(Theme.action_line_id).in_(line_ids)).order_by(col(Theme.position))
    ).all()
    results = session.scalars(
        select(Result)
        .where(col(Result.programme_id) == programme_id)
        .order_by(col(Result.position))
    ).all()
    activities = session.scalars(
        select(Activity)
        .where(col(Activity.result_id).in_([r.id for r in results]))
        .order_by(col(Activity.position))
    ).all()
    by_result: dict[int, list[Activity]] = {}
    for activity in activities:
        by_result.setdefault(activity.result_id, []).append(activity)
    by_theme: dict[int, list[dict[str, Any]]] = {}
    for result in results:
        by_theme.setdefault(result.theme_id, []).append(
            {"item": result, "children": by_result.get(id_of(result), [])}
        )
    by_line: dict[int, list[dict[str, Any]]] = {}
    for theme in themes:
        by_line.setdefault(theme.action_line_id, []).append(
            {"item": theme, "children": by_theme.get(id_of(theme), [])}
        )
    return [{"item": line, "children": by_line.get(id_of(line), [])} for line in lines]
