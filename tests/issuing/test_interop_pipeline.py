"""What the running tool issues (credential, VC-JWT's twin, status lists, CLR) verifies in Digital Bazaar's
independent JS verifier, run offline from the npm registry packages in tests/credentials/interop; a credential
the tool suspended is rejected there too. The issuer has a full postal address, as institutions do."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from lti_microcred.competencies import operations as ops
from lti_microcred.core.db import transaction
from lti_microcred.credentials.contexts import bundled_context_urls, load_context
from lti_microcred.credentials.issuing.credential_status import change_status
from lti_microcred.credentials.issuing.issuance import issue
from lti_microcred.credentials.issuing.records import learner_record
from tests.support.factories import fields, institution
from tests.support.interop import INTEROP, interop_node


def test_issued_credentials_verify_in_the_js_library(services: Any, tmp_path: Path,
                                                    issuer_address: dict[str, str]) -> None:
    node = interop_node()
    with transaction(services.sessions) as session:
        inst = institution(session)
        course = inst.course(session)
        staff = inst.actor(inst.person(session, "Teacher"), course)
        learner = inst.person(session, "Learner")
        minimal = ops.create_micro_credential(session, staff, fields(eqf_level=None, national_level="",
                                                                    workload_hours=None, validity_months=None))
        full = ops.create_micro_credential(session, staff, fields(title="Full", validity_months=36, stackable=True,
                                                                 prerequisites="Basic numeracy",
                                                                 supervision="Proctored online exam"))
        suspended = ops.create_micro_credential(session, staff, fields(title="Suspended"))
        rows = [issue(session, services.issuer.state(), services.credential_urls,
                      ops.award_manually(session, staff, c, learner.id, "Assessed.").id)
                for c in (minimal, full, suspended)]
        assert json.loads(rows[0].signed_json)["issuer"]["address"]["streetAddress"] == issuer_address["street_address"]
        change_status(session, rows[2], "suspension", True, "Under review.")
        record = learner_record(session, services.issuer.state(), services.credential_urls, inst.platform.id,
                                learner.id)
        issuer = services.issuer.state()
        status_urls = {e["statusListCredential"] for r in rows for e in json.loads(r.signed_json)["credentialStatus"]}
        prefix = services.settings.base_url + "/status/"
        lists = {url: services.signed_status_lists.get(session, url[len(prefix):], services.settings.base_url,
                                                       lambda _institution: (issuer.did, issuer.di_signer))
                 for url in status_urls}
        verify = [{"name": f"credential-{i}", "credential": json.loads(r.signed_json)} for i, r in enumerate(rows)]
        verify += [{"name": "clr", "credential": record}]
        verify += [{"name": f"status-list-{i}", "credential": doc} for i, doc in enumerate(lists.values())]
    job = {"contexts": {url: load_context(url) for url in bundled_context_urls()},
           "documents": {issuer.did: issuer.did_document, **lists}, "canonize": [], "verify": verify, "sign": []}
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))
    finished = subprocess.run([node, str(INTEROP / "verify.mjs"), str(path)], capture_output=True, text=True,
                              timeout=120, cwd=INTEROP, check=False)
    assert finished.returncode == 0, finished.stderr
    result = json.loads(finished.stdout)
    for item in verify:
        expected = item["name"] != "credential-2"  # the suspended one
        assert result["verify"][item["name"]]["verified"] is expected, (item["name"], result["verify"][item["name"]])
    assert len(record["credentialSubject"]["verifiableCredential"]) == 2
