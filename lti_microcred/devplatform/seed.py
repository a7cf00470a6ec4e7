"""Demo content: a course of the demo LMS with a published micro-credential, one learner who has earned it
(and holds a signed credential), one halfway through. Run once per database; later runs change nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_microcred.competencies import operations as ops
from lti_microcred.competencies.audit import Actor
from lti_microcred.competencies.models import Competency, Framework, MicroCredential
from lti_microcred.core.db import Base, dialect_insert, transaction, utcnow
from lti_microcred.credentials.issuing.issuance import issue
from lti_microcred.devplatform.platform import DevPlatform
from lti_microcred.lti.models import Context, Deployment, Membership, User
from lti_microcred.services import Services

FRAMEWORK = ("demo-digital-data-skills", "Digital data skills (demo)", [
    ("DDS.1", "Clean and structure a data set", "Detect and correct errors, gaps and duplicates in tabular data."),
    ("DDS.2", "Explore data with summary statistics", "Describe a data set with appropriate statistics."),
    ("DDS.3", "Communicate findings with charts", "Choose and explain a chart for a non-specialist audience."),
])


def _row(session: Session, model: type[Base], keys: dict, values: dict) -> int:
    table = model.__table__
    stmt = dialect_insert(session, table).values(**keys, **values, created_dt=utcnow(),
                                                           updated_dt=utcnow())
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={**values, "updated_dt": utcnow()})
    return int(session.execute(stmt.returning(table.c.id)).scalar_one())


def seed_demo(services: Services, platform_id: int, platform: DevPlatform) -> str | None:
    """Returns the verification URL of the demo learner's credential."""
    with transaction(services.sessions) as session:
        deployment = session.scalars(select(Deployment).where(
            Deployment.platform_id == platform_id,
            Deployment.lti_deployment_id == platform.setup.deployment_id)).one()
        course_id = _row(session, Context, {"deployment_id": deployment.id,
                                            "lti_context_id": platform.setup.course_id},
                         {"platform_id": platform_id, "title": platform.setup.course_title,
                          "label": platform.setup.course_id})
        existing = session.scalars(select(MicroCredential).where(MicroCredential.context_id == course_id)).first()
        if existing is None:
            _build(session, platform_id, course_id, platform)
        _place_modules(session, course_id, platform)
        learner_id = session.scalars(select(User.id).where(User.platform_id == platform_id,
                                                           User.sub == "learner-1")).one()
        from lti_microcred.competencies.models import Award

        award = session.scalars(select(Award).where(Award.learner_id == learner_id,
                                                    Award.status == "active")).first()
        if award is None:
            return None
        row = issue(session, services.issuer.for_platform(session, platform_id), services.credential_urls, award.id)
        return services.credential_urls.verify(row.public_id)


def _place_modules(session: Session, course_id: int, platform: DevPlatform) -> None:
    """The demo LMS keeps its course page in memory: put the modules back on it at every start."""
    from lti_microcred.competencies.models import Module
    from lti_microcred.lti.persistence import MODULE_PARAM

    placed = {link.custom.get(MODULE_PARAM) for link in platform.links.values()}
    for module in session.scalars(select(Module).where(Module.context_id == course_id).order_by(Module.id)):
        if module.key not in placed:
            platform.add_link(module.title, {MODULE_PARAM: module.key},
                              {"label": module.title, "scoreMaximum": module.score_maximum, "resourceId": module.key})


def _people(session: Session, platform_id: int, course_id: int, platform: DevPlatform) -> dict[str, int]:
    ids = {}
    for user in platform.users.values():
        ids[user.id] = _row(session, User, {"platform_id": platform_id, "sub": user.id},
                            {"name": user.name, "given_name": user.given_name, "family_name": user.family_name,
                             "email": user.email})
        role = "instructor" if user.role == "instructor" else "learner"
        _row(session, Membership, {"context_id": course_id, "user_id": ids[user.id]},
             {"role": role, "lti_roles": "[]"})
    return ids


def _build(session: Session, platform_id: int, course_id: int, platform: DevPlatform) -> None:
    people = _people(session, platform_id, course_id, platform)
    staff = Actor(platform_id, course_id, people["instructor-1"], "Ian Instructor", "instructor")
    identifier, title, items = FRAMEWORK
    framework = Framework(platform_id=platform_id, identifier=identifier, title=title, source="manual")
    session.add(framework)
    session.flush()
    competencies = [Competency(framework_id=framework.id, identifier=code, code=code, short_name=name,
                               description=text, sort_order=i) for i, (code, name, text) in enumerate(items)]
    session.add_all(competencies)
    session.flush()
    credential = ops.create_micro_credential(session, staff, ops.CredentialFields(
        title="Data Analysis Essentials", description="Clean, explore and present data for decisions at work.",
        learning_outcomes=[c.description for c in competencies], workload_hours=50, ects_credits=2, eqf_level=5,
        national_level="RQF 5", assessment_type="Practical project assessed with a rubric, plus workplace evidence",
        participation_form="blended", quality_assurance="Approved by the Faculty Quality Committee",
        awarding_body=platform.setup.course_title.split(":")[0], country="IE", validity_months=36, stackable=True))
    project = ops.create_module(session, course_id, "Module 1: Cleaning a real data set", 100,
                                micro_credential_id=credential.id)
    practice = ops.create_module(session, course_id, "Module 2: Explaining data", 20,
                                 micro_credential_id=credential.id)
    c1, c2, c3 = (c.id for c in competencies)
    ops.set_requirement(session, staff, credential, project, c1, "score", 70)
    ops.set_requirement(session, staff, credential, practice, c2, "rubric", 3)
    ops.set_requirement(session, staff, credential, practice, c3, "evidence_count", 1)
    ops.set_status(session, staff, credential, "published")
    _progress(session, staff, people, credential, project, (c1, c2, c3))


def _progress(session: Session, staff: Actor, people: dict[str, int], credential: MicroCredential, project: object,
              competencies: tuple[int, int, int]) -> None:
    _, c2, c3 = competencies
    lea, maya = people["learner-1"], people.get("learner-2")
    ops.record_lms_score(session, staff, lea, project.id, 86, 100)  # type: ignore[attr-defined]
    ops.record_evidence(session, staff, lea, "rubric", competency_id=c2, rubric_level=4)
    lea_actor = Actor(staff.platform_id, staff.context_id, lea, "Lea Learner", "learner")
    chart = ops.submit_evidence(session, lea_actor, c3, title="Sales dashboard",
                                text="A one-page dashboard of regional sales with a note for the managers.",
                                credential=credential)
    ops.assess_evidence(session, staff, chart, "accepted", "Clear and honest chart choices.", 3)  # type: ignore[arg-type]
    if maya is not None:
        ops.record_lms_score(session, staff, maya, project.id, 64, 100)  # type: ignore[attr-defined]
