#!/usr/bin/env python
"""Issue and store N Data-Integrity-signed credentials, then verify them all; compare with Digital Bazaar's JS
library signing the same credential on this machine; show where the time goes.

    .venv/bin/python bench/credential_bench.py --count 10000 --processes 2 [--backend postgres]

Issuing goes through the same function the outbox worker calls
(credentials.issuance.issue_signing_outside_the_writer): build the credential from the award, allocate two
random status slots, sign (eddsa-rdfc-2022), make the VC-JWT twin, all while only reading; then store the exact
bytes in a short write transaction of its own. Verification is the public verifier (proof, key, dates, status list).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchdb import reset_postgres  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from lti_microcred.competencies import operations as ops  # noqa: E402
from lti_microcred.competencies.audit import Actor  # noqa: E402
from lti_microcred.competencies.models import Award, Competency, Framework  # noqa: E402
from lti_microcred.core.config import load_settings  # noqa: E402
from lti_microcred.core.db import transaction, utcnow  # noqa: E402
from lti_microcred.core.migrate import upgrade  # noqa: E402
from lti_microcred.credentials.contexts import bundled_context_urls, load_context  # noqa: E402
from lti_microcred.credentials.issuing.issuance import issue_signing_outside_the_writer  # noqa: E402
from lti_microcred.credentials.issuing.issuer import ensure_issuer  # noqa: E402
from lti_microcred.credentials.models import IssuedCredential  # noqa: E402
from lti_microcred.credentials.proofs.canonical import canonicalize_with_report  # noqa: E402
from lti_microcred.credentials.proofs.multikey import ed25519_private_key_to_multibase  # noqa: E402
from lti_microcred.credentials.verification import verify  # noqa: E402
from lti_microcred.lti.models import Context, Deployment, Platform, User  # noqa: E402
from lti_microcred.services import Services  # noqa: E402

INTEROP = REPO / "tests" / "credentials" / "interop"


def services_for(overrides: dict[str, Any]) -> Services:
    return Services.from_settings(load_settings(overrides, environ={}))


def prepare(overrides: dict[str, Any], count: int) -> list[int]:
    """An institution, a course, a published micro-credential aligned to 5 competencies, and `count` awards."""
    s = services_for(overrides)
    if s.engine.dialect.name == "postgresql":
        reset_postgres(s.engine.url.render_as_string(hide_password=False))
    upgrade(s.engine)
    with transaction(s.sessions) as session:
        ensure_issuer(session, s.box, "Example University")
        platform = Platform(name="LMS", issuer="https://lms.example", client_id="c", auth_login_url="https://x",
                            auth_token_url="https://x", key_set_url="https://x", status="active")
        session.add(platform)
        session.flush()
        deployment = Deployment(platform_id=platform.id, lti_deployment_id="1", status="active")
        session.add(deployment)
        session.flush()
        course = Context(platform_id=platform.id, deployment_id=deployment.id, lti_context_id="c1", title="Course")
        framework = Framework(platform_id=platform.id, identifier="fw", title="Digital skills", source="case")
        session.add_all([course, framework])
        session.flush()
        competencies = [Competency(framework_id=framework.id, identifier=f"c{i}", short_name=f"Competency {i}",
                                   code=f"DS.{i}", uri=f"https://case.example/CFItems/{i}") for i in range(5)]
        session.add_all(competencies)
        session.flush()
        actor = Actor(platform.id, course.id, None, "bench")
        credential = ops.create_micro_credential(session, actor, ops.CredentialFields(
            title="Data Analysis Essentials", description="Cleaning, exploring and presenting data.",
            learning_outcomes=["Clean a messy data set", "Explain a chart"], workload_hours=50, ects_credits=2,
            eqf_level=5, national_level="RQF 5", assessment_type="Practical project with a rubric",
            participation_form="online", quality_assurance="Internal QA", awarding_body="Example University",
            country="IE", validity_months=36, stackable=True))
        module = ops.create_module(session, course.id, "Module 1", 100)
        for c in competencies:
            ops.set_requirement(session, actor, credential, module, c.id, "rubric", 3)
        session.execute(insert(User.__table__), [
            {"platform_id": platform.id, "sub": f"u{i}", "name": f"Learner {i}", "email": f"learner{i}@example.edu",
             "created_dt": utcnow(), "updated_dt": utcnow()} for i in range(count)])
        user_ids = session.scalars(select(User.id).where(User.platform_id == platform.id).order_by(User.id)).all()
        session.execute(insert(Award.__table__), [
            {"key": secrets.token_hex(12), "platform_id": platform.id, "micro_credential_id": credential.id,
             "learner_id": uid, "status": "active", "basis": "manual", "reason": "bench", "evidence_ids": "{}",
             "awarded_dt": utcnow()} for uid in user_ids])
        award_ids = session.scalars(select(Award.id).order_by(Award.id)).all()
    s.engine.dispose()
    return list(award_ids)


def issue_slice(overrides: dict[str, Any], award_ids: list[int]) -> float:
    s = services_for(overrides)
    issuer = s.issuer.state()
    start = time.perf_counter()
    for award_id in award_ids:  # as the outbox worker does: sign while reading, store in a short write
        issue_signing_outside_the_writer(s.read_sessions, s.sessions, issuer, s.credential_urls, award_id)
    elapsed = time.perf_counter() - start
    s.engine.dispose()
    return elapsed


def verify_slice(overrides: dict[str, Any], ids: list[int]) -> tuple[float, int]:
    s = services_for(overrides)
    issuer = s.issuer.state()
    with s.read_sessions() as session:
        docs = [r for r in session.scalars(select(IssuedCredential.signed_json).where(IssuedCredential.id.in_(ids)))]
        start = time.perf_counter()
        ok = sum(verify(session, [issuer], s.signed_status_lists, s.settings.base_url, d).verified for d in docs)
    elapsed = time.perf_counter() - start
    s.engine.dispose()
    return elapsed, ok


def parallel(fn: Any, overrides: dict[str, Any], ids: list[int], processes: int) -> list[Any]:
    chunks = [ids[i::processes] for i in range(processes)]
    with mp.get_context("spawn").Pool(processes) as pool:
        return pool.starmap(fn, [(overrides, chunk) for chunk in chunks])


def breakdown(overrides: dict[str, Any], issue_ms: float, samples: int = 200) -> dict[str, float]:
    """ms per credential, one process: the parts of issue() (the proof options are the same for every credential
    and canonicalized once, LRU-cached, so signing costs one document canonicalization), and one verification."""
    from lti_microcred.credentials.proofs.dataintegrity import hash_data
    from lti_microcred.credentials.proofs.vcjwt import encode

    s = services_for(overrides)
    issuer = s.issuer.state()
    with s.read_sessions() as session:
        stored = list(session.scalars(select(IssuedCredential.signed_json).limit(samples)))
        signed = [json.loads(d) for d in stored]
        unsigned = [{k: v for k, v in d.items() if k != "proof"} for d in signed]
        options = {k: v for k, v in signed[0]["proof"].items() if k != "proofValue"}
        document_ms = per_item(lambda: [canonicalize_with_report(u) for u in unsigned], len(unsigned))
        canonical = [canonicalize_with_report(u) for u in unsigned]
        pairs = list(zip(unsigned, canonical, strict=True))
        options_ms = per_item(lambda: [hash_data(u, options, document=c) for u, c in pairs], len(pairs))
        datas = [hash_data(u, options, document=c).data for u, c in pairs]
        signature_ms = per_item(lambda: [issuer.di_signer.private_key.sign(d) for d in datas], len(datas))
        vcjwt_ms = per_item(lambda: [encode(u, issuer.jwt_key, issuer.jwt_kid) for u in unsigned], len(unsigned))
        verify_ms = per_item(lambda: [verify(session, [issuer], s.signed_status_lists, s.settings.base_url, d)
                                      for d in stored[:50]], len(stored[:50]))
    s.engine.dispose()
    signing = document_ms + options_ms + signature_ms
    return {"document canonicalization": document_ms, "proof options (canonicalized once, cached)": options_ms,
            "Ed25519 signature": signature_ms, "VC-JWT twin (ES256)": vcjwt_ms,
            "storage and the rest (build, status slots, rows)": max(issue_ms - signing - vcjwt_ms, 0.0),
            "= whole issue()": issue_ms, "verification (proof, key, dates, status list)": verify_ms}


def per_item(work: Any, count: int) -> float:
    """ms per item of a batch of work."""
    start = time.perf_counter()
    work()
    return (time.perf_counter() - start) / count * 1000


def javascript_reference(overrides: dict[str, Any], iterations: int) -> dict[str, float] | None:
    node = shutil.which("node")
    if node is None or not (INTEROP / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        return None
    s = services_for(overrides)
    issuer = s.issuer.state()
    with s.read_sessions() as session:
        credential = json.loads(session.scalars(select(IssuedCredential.signed_json).limit(1)).one())
        lists = {e["statusListCredential"]: s.signed_status_lists.get(
            session, e["statusListCredential"].rsplit("/", 1)[1], s.settings.base_url,
            lambda _institution: (issuer.did, issuer.di_signer))
            for e in credential["credentialStatus"]}
    credential.pop("proof")
    key = {"id": issuer.di_signer.verification_method, "controller": issuer.did,
           "publicKeyMultibase": issuer.di_signer.verification_method.split("#", 1)[1],
           "secretKeyMultibase": ed25519_private_key_to_multibase(issuer.di_signer.private_key)}
    job = {"contexts": {u: load_context(u) for u in bundled_context_urls()},
           "documents": {issuer.did: issuer.did_document, **lists},
           "bench": {"credential": credential, "key": key, "iterations": iterations}}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(job, fh)
    out = subprocess.run([node, str(INTEROP / "verify.mjs"), fh.name], capture_output=True, text=True, timeout=600,
                         cwd=INTEROP, check=True)
    os.unlink(fh.name)
    s.engine.dispose()
    return json.loads(out.stdout)["bench"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--js-iterations", type=int, default=300)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lmc-cred-bench-"))
    overrides = {"instance_path": str(tmp), "secret_key": "b" * 40, "base_url": "https://microcred.example.edu",
                 "database_url": args.pg_url if args.backend == "postgres" else ""}
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; backend {args.backend}; "
          f"{args.count} credentials; {args.processes} process(es)")
    ids = prepare(overrides, args.count)
    start = time.perf_counter()
    parallel(issue_slice, overrides, ids, args.processes)
    wall = time.perf_counter() - start
    print(f"issued and stored {len(ids)} DI-signed credentials (+ VC-JWT twins) in {wall:.1f} s: "
          f"{len(ids) / wall:.0f} credentials/s ({1000 * wall * args.processes / len(ids):.2f} ms CPU-slot each)")
    with services_for(overrides).read_sessions() as session:
        stored = session.scalars(select(IssuedCredential.id)).all()
    start = time.perf_counter()
    results = parallel(verify_slice, overrides, list(stored), args.processes)
    vwall = time.perf_counter() - start
    verified = sum(ok for _, ok in results)
    print(f"verified {verified}/{len(stored)} in {vwall:.1f} s: {len(stored) / vwall:.0f} verifications/s "
          "(proof, key, dates, status list)")
    print("where the time goes (ms per credential, one process):")
    parts = breakdown(overrides, issue_ms=1000 * wall * args.processes / len(ids))
    for label, value in parts.items():
        print(f"  {label:50} {value:7.2f}")
    js = javascript_reference(overrides, args.js_iterations)
    if js is None:
        print("JavaScript reference skipped: needs node and `npm ci` in tests/credentials/interop")
    else:
        sign_ms = sum(parts[k] for k in ("document canonicalization", "proof options (canonicalized once, cached)",
                                         "Ed25519 signature"))
        verify_ms = parts["verification (proof, key, dates, status list)"]
        print("the same credential, ms, ours vs Digital Bazaar (JS) on this machine:")
        for what, ours, theirs in (("sign (eddsa-rdfc-2022)", sign_ms, js["signMs"]),
                                   ("verify (proof and status list)", verify_ms, js["verifyMs"])):
            print(f"  {what:32} {ours:7.2f} vs {theirs:7.2f}: ours is {theirs / ours:.2f}x the JS speed "
                  f"({'PASS' if theirs >= ours else 'FAIL'} ours >= reference)")
    print(f"target 10,000 issued in < 60 s: {'PASS' if wall * 10_000 / len(ids) < 60 else 'FAIL'} "
          f"(projected {wall * 10_000 / len(ids):.1f} s)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
