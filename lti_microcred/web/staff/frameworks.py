"""Competency frameworks of the launch's institution: list, hierarchy, upload (CASE JSON or Moodle CSV).

Every query is scoped by the session's platform, so an institution never sees another's frameworks, even
on hosted Canvas where many institutions share one issuer.
"""

from __future__ import annotations

import os
from typing import Any

from flask import render_template, request
from werkzeug.datastructures import FileStorage

from lti_microcred.competencies.importers import (
    DEFAULT_MAX_BYTES,
    FORMAT_LABELS,
    FrameworkImportError,
    Problem,
    check_size,
)
from lti_microcred.competencies.importers.catalogue import competency_tree, framework_of_platform, framework_summaries
from lti_microcred.competencies.operations import DomainError, add_competency, import_competency_framework
from lti_microcred.lti.roles import ADMIN, INSTRUCTOR
from lti_microcred.web.common.context import db
from lti_microcred.web.common.guards import current_session, requires_role, session_blueprint
from lti_microcred.web.common.views_support import RecordNotFound, actor

bp = session_blueprint("frameworks", __name__, "/frameworks")
FORMAT_CHOICES = (("", "Detect automatically"), ("case", FORMAT_LABELS["case"]),
                  ("moodle-csv", FORMAT_LABELS["moodle_csv"]))


@bp.route("/", methods=["GET"])
@requires_role(INSTRUCTOR, ADMIN)
def index() -> str:
    return _index_page()


@bp.route("/", methods=["POST"])
@requires_role(INSTRUCTOR, ADMIN)
def upload() -> tuple[str, int] | str:
    """One import = one transaction: the file is checked whole, then written and committed, or nothing."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _index_page(problems=[Problem("", "Choose a file to import.")]), 422
    session = db()
    try:
        check_size(_size_of(upload), DEFAULT_MAX_BYTES)  # its real size, before reading any of it
        report = import_competency_framework(session, actor(), upload.stream.read(DEFAULT_MAX_BYTES + 1),
                                             upload.filename, request.form.get("format") or None)
    except FrameworkImportError as exc:
        session.rollback()
        return _index_page(problems=exc.problems, summary=str(exc), filename=upload.filename), 422
    session.commit()
    return _index_page(report=report)


def _size_of(upload: FileStorage) -> int:
    """The uploaded file's length (the form parser has spooled all of it)."""
    upload.stream.seek(0, os.SEEK_END)
    size = upload.stream.tell()
    upload.stream.seek(0)
    return size


@bp.route("/competencies", methods=["POST"])
@requires_role(INSTRUCTOR, ADMIN)
def add() -> tuple[str, int] | str:
    """Competencies typed in by hand, when there is no framework file to import."""
    session = db()
    try:
        competency = add_competency(session, actor(), request.form.get("name", ""), request.form.get("description", ""),
                                    request.form.get("code", ""))
    except DomainError as exc:
        session.rollback()
        return _index_page(problems=[Problem("", str(exc))], summary="The competency was not added."), 422
    session.commit()
    return _index_page(added=competency.short_name)


@bp.route("/<int:framework_id>")
@requires_role(INSTRUCTOR, ADMIN)
def show(framework_id: int) -> str:
    s = current_session()
    framework = framework_of_platform(db(), s.platform_id, framework_id)
    if framework is None:
        raise RecordNotFound(f"framework {framework_id} is not one of platform {s.platform_id}'s")
    tree = competency_tree(db(), framework.id)
    return render_template("staff/framework.html", s=s, framework=framework, tree=tree,
                           count=_count(tree), labels=FORMAT_LABELS)


def _index_page(**result: Any) -> str:
    s = current_session()
    return render_template("staff/frameworks.html", s=s, frameworks=framework_summaries(db(), s.platform_id),
                           labels=FORMAT_LABELS, format_choices=FORMAT_CHOICES,
                           max_megabytes=DEFAULT_MAX_BYTES // (1024 * 1024), **result)


def _count(tree: list[Any]) -> int:
    total, stack = 0, list(tree)
    while stack:
        node = stack.pop()
        total += 1
        stack.extend(node.children)
    return total
