"""Which LMS column (line item) a module or a micro-credential writes to.

A module's column is the one Deep Linking created (the launch's `lineitem` claim) unless the LMS answered 404
for it (deleted there), else the line item found by our `resourceId` (Moodle and Canvas keep a Deep Linking
item's, so a module nobody has launched is found from any launch's course address) or the link's
`resourceLinkId`, else, in Moodle, one we create on the placed link. Canvas never gets one created on a link:
it refuses a link without an assignment (412) and would add a second line item to an assignment, which its
gradebook ignores (line_items_controller.rb, lti/line_item.rb `assignment_line_item?`). A credential's column is
always ours: created once per course, labelled with the credential's name, found again by its `resourceId`.
Creation is reserved in the database first, so two workers never create two columns.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from lti_microcred.competencies.models import MicroCredential, Module
from lti_microcred.core.db import dialect_insert, transaction, utcnow
from lti_microcred.lms.access import ServiceClient
from lti_microcred.lms.ags import Ags
from lti_microcred.lms.course import endpoints
from lti_microcred.lms.errors import NotReady
from lti_microcred.lms.models import GradebookColumn
from lti_microcred.lti.models import Context, ResourceLink

MODULE, CREDENTIAL = "module", "credential"
MODULE_TAG, CREDENTIAL_TAG = "microcred-module", "microcred-credential"
CREDENTIAL_SCORE_MAXIMUM = 100.0
RESERVATION = dt.timedelta(seconds=60)
CANVAS_LINK_ONLY = ("in Canvas it is placed as a module link (or its assignment was deleted), which has no gradebook "
                    "column: place it as an assignment (Assignments, + Assignment, submission type External Tool, this "
                    "tool, then the module) and publish that assignment")


@dataclass(frozen=True)
class Column:
    id: int
    context_id: int
    subject_kind: str
    subject_id: int
    lineitem_url: str
    score_maximum: float
    label: str


@dataclass(frozen=True)
class Wanted:
    """What the column should look like, from our own rows."""

    platform_id: int
    context_id: int
    kind: str
    subject_id: int
    label: str
    score_maximum: float
    resource_id: str
    tag: str
    link_id: str | None = None  # the LTI resource link the module is placed on
    deep_link_url: str | None = None


class Columns:
    """Resolves and caches columns per process; the database row is the shared truth."""

    def __init__(self, client: ServiceClient, sessions: sessionmaker[Session],
                 read_sessions: sessionmaker[Session], family: Callable[[int], str | None] | None = None) -> None:
        self._client = client
        self._family = family or (lambda context_id: None)
        self._sessions = sessions
        self._read = read_sessions
        self._cache: dict[tuple[int, str, int], Column] = {}
        self._locks: dict[tuple[int, str, int], threading.Lock] = {}
        self._guard = threading.Lock()
        # Line items the LMS answered 404 for. Launches keep naming a deleted Deep Linking item, so it is not
        # used again; once the column is found or created elsewhere its stored row wins in every process.
        self._gone: set[str] = set()

    def module(self, context_id: int, module_id: int, create: bool = True) -> Column:
        return self._resolve((context_id, MODULE, module_id), create)

    def credential(self, context_id: int, credential_id: int) -> Column:
        return self._resolve((context_id, CREDENTIAL, credential_id), True)

    def forget(self, column: Column) -> None:
        """The LMS no longer has this line item (404): find or create the column again next time."""
        key = (column.context_id, column.subject_kind, column.subject_id)
        self._gone.add(column.lineitem_url)
        self._cache.pop(key, None)
        with transaction(self._sessions) as session:  # unless another process has already replaced it
            session.execute(delete(GradebookColumn).where(GradebookColumn.id == column.id,
                                                          GradebookColumn.lineitem_url == column.lineitem_url))

    def _resolve(self, key: tuple[int, str, int], create: bool) -> Column:
        column = self._cache.get(key) or self._stored(key)
        if column is not None:
            self._cache[key] = column
            return column
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            column = self._cache.get(key) or self._stored(key)
            if column is None:
                column = self._find_or_create(self._wanted(key), create)
            self._cache[key] = column
            return column

    def _stored(self, key: tuple[int, str, int]) -> Column | None:
        with self._read() as session:
            row = session.execute(select(GradebookColumn).where(
                GradebookColumn.context_id == key[0], GradebookColumn.subject_kind == key[1],
                GradebookColumn.subject_id == key[2], GradebookColumn.lineitem_url.is_not(None))).scalar_one_or_none()
            return _column(row) if row is not None else None

    def _wanted(self, key: tuple[int, str, int]) -> Wanted:
        context_id, kind, subject_id = key
        with self._read() as session:
            if kind == CREDENTIAL:
                credential = session.get(MicroCredential, subject_id)
                if credential is None or credential.context_id != context_id:
                    raise NotReady(f"micro-credential {subject_id} is not in course {context_id}", 3600)
                return Wanted(credential.platform_id, context_id, kind, subject_id, credential.title[:255],
                              CREDENTIAL_SCORE_MAXIMUM, credential.key, CREDENTIAL_TAG)
            module = session.get(Module, subject_id)
            if module is None or module.context_id != context_id:
                raise NotReady(f"module {subject_id} is not in course {context_id}", 3600)
            links = session.execute(select(ResourceLink).where(
                ResourceLink.context_id == context_id, ResourceLink.module_key == module.key)
                .order_by(ResourceLink.id)).scalars().all()
            if not links:  # nobody launched it yet: the LMS may still hold its Deep Linking column (resourceId)
                platform_id = session.execute(select(Context.platform_id).where(Context.id == context_id)).scalar_one()
                return Wanted(platform_id, context_id, kind, subject_id, module.title[:255], module.score_maximum,
                              module.key, MODULE_TAG)
            live = [link for link in links if link.lineitem_url and link.lineitem_url not in self._gone]
            placed = live[0] if live else links[0]
            return Wanted(placed.platform_id, context_id, kind, subject_id, module.title[:255], module.score_maximum,
                          module.key, MODULE_TAG, placed.lti_resource_link_id,
                          placed.lineitem_url if live else None)

    def _find_or_create(self, wanted: Wanted, create: bool) -> Column:
        if wanted.deep_link_url:
            return self._save(wanted, wanted.deep_link_url, "deep_link")
        with self._read() as session:
            course = endpoints(session, wanted.context_id)
        if course is None or not course.lineitems_url:
            raise NotReady("the LMS has not told us this course's gradebook address yet: it comes with the "
                           "next launch of the tool from the course", 300)
        if not self._reserve(wanted):
            raise NotReady("another worker is creating this column", 5)
        try:
            ags = Ags(self._client, wanted.platform_id)
            found = self._search(ags, course.lineitems_url, wanted)
            if found is not None:
                return self._save(wanted, found["id"], "found")
            self._check_creation(wanted, create)
            item: dict[str, Any] = {"label": wanted.label, "scoreMaximum": wanted.score_maximum,
                                    "resourceId": wanted.resource_id, "tag": wanted.tag}
            if wanted.link_id:  # Moodle attaches the new grade item to the placed activity
                item["resourceLinkId"] = wanted.link_id
            created = ags.create_line_item(course.lineitems_url, item)
            return self._save(wanted, created["id"], "created")
        except BaseException:
            self._release(wanted)  # whoever tries next searches again first, so nothing is created twice
            raise

    def _check_creation(self, wanted: Wanted, create: bool) -> None:
        """Say why no column is created (NotReady, with what the instructor can do) unless one may be."""
        if wanted.kind != MODULE:
            return
        unplaced = f"the LMS has no column carrying this module's id ({wanted.resource_id})"
        if not wanted.link_id:
            raise NotReady(f"module “{wanted.label}” is not placed in the LMS course yet: {unplaced} and nobody has "
                           "launched it (add it with Deep Linking)", 600)
        if self._family(wanted.context_id) == "canvas":
            raise NotReady(f"module “{wanted.label}” has no gradebook column: {CANVAS_LINK_ONLY}", 900)
        if not create:
            raise NotReady(f"{unplaced}, nor does its placed link", 900)

    @staticmethod
    def _search(ags: Ags, lineitems_url: str, wanted: Wanted) -> dict[str, Any] | None:
        """The line item with our resourceId (the one on the placed link first, if several), else the link's."""
        items = ags.line_items(lineitems_url, resource_id=wanted.resource_id)
        match = [i for i in items if i.get("resourceId") == wanted.resource_id and isinstance(i.get("id"), str)]
        match.sort(key=lambda i: not (wanted.link_id and i.get("resourceLinkId") == wanted.link_id))
        if not match and wanted.link_id:
            items = ags.line_items(lineitems_url, resource_link_id=wanted.link_id)
            match = [i for i in items if i.get("resourceLinkId") == wanted.link_id and isinstance(i.get("id"), str)]
        return match[0] if match else None

    def _reserve(self, wanted: Wanted) -> bool:
        """Take (or take over, if its holder vanished) the right to find or create this column."""
        now = utcnow()
        with transaction(self._sessions) as session:
            session.execute(dialect_insert(session, GradebookColumn.__table__).values(
                platform_id=wanted.platform_id, context_id=wanted.context_id, subject_kind=wanted.kind,
                subject_id=wanted.subject_id, label=wanted.label, score_maximum=wanted.score_maximum,
                tag=wanted.tag, resource_id=wanted.resource_id, lti_resource_link_id=wanted.link_id,
                source="reserved", reserved_until=now - dt.timedelta(seconds=1), created_dt=now,
            ).on_conflict_do_nothing(index_elements=["context_id", "subject_kind", "subject_id"]))
            row = session.execute(_row_query(wanted).with_for_update()).scalar_one()
            if row.lineitem_url or (row.reserved_until is not None and row.reserved_until > now):
                return False
            row.reserved_until = now + RESERVATION
            return True

    def _release(self, wanted: Wanted) -> None:
        with transaction(self._sessions) as session:
            session.execute(delete(GradebookColumn).where(
                GradebookColumn.context_id == wanted.context_id, GradebookColumn.subject_kind == wanted.kind,
                GradebookColumn.subject_id == wanted.subject_id, GradebookColumn.lineitem_url.is_(None)))

    def _save(self, wanted: Wanted, url: str, source: str) -> Column:
        with transaction(self._sessions) as session:
            values = dict(platform_id=wanted.platform_id, context_id=wanted.context_id, subject_kind=wanted.kind,
                          subject_id=wanted.subject_id, label=wanted.label, score_maximum=wanted.score_maximum,
                          tag=wanted.tag, resource_id=wanted.resource_id, lti_resource_link_id=wanted.link_id,
                          lineitem_url=url, source=source, reserved_until=None, created_dt=utcnow())
            stmt = dialect_insert(session, GradebookColumn.__table__).values(**values)
            session.execute(stmt.on_conflict_do_update(
                index_elements=["context_id", "subject_kind", "subject_id"],
                set_={k: v for k, v in values.items() if k != "created_dt"}))
            return _column(session.execute(_row_query(wanted)).scalar_one())


def _row_query(wanted: Wanted) -> Any:
    return select(GradebookColumn).where(GradebookColumn.context_id == wanted.context_id,
                                         GradebookColumn.subject_kind == wanted.kind,
                                         GradebookColumn.subject_id == wanted.subject_id)


def _column(row: GradebookColumn) -> Column:
    assert row.lineitem_url is not None
    return Column(row.id, row.context_id, row.subject_kind, row.subject_id, row.lineitem_url, row.score_maximum,
                  row.label)
