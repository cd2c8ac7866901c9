// The OpenWallet Foundation SD-JWT VC implementation (npm @sd-jwt/sd-jwt-vc) as a wallet and a
// verifier, driven by idp/tests/licence_interop.rs: one JSON request on stdin, one JSON answer
// on stdout; a refusal exits 1 with the library's message on stderr.
//
//   {"mode":"keygen"}
//       -> {"public_jwk":{..}, "private_jwk":{..}}                     a wallet's ES256 key
//   {"mode":"verify", "sd_jwt":"..", "issuer_jwk":{..}, "nonce"?:"..", "aud"?:".."}
//       -> {"header":{..}, "claims":{..}, "disclosed":[..], "kb"?:{..}, "x5c_san":".."}
//   {"mode":"present", "credential":"..", "holder_jwk":{private}, "disclose":["name",..],
//    "nonce":"..", "aud":".."}
//       -> {"presentation":".."}
//
// Chain validation of x5c is the caller's business (the OWF library verifies with the key it
// is given); this script only checks that the leaf certificate in x5c holds that key. The
// library's SD-JWT VC verify fetches the status list named in the credential itself (fetch()
// of status.status_list.uri) and refuses a non-zero entry.
import { X509Certificate } from "node:crypto";
import { ES256, digest } from "@sd-jwt/crypto-nodejs";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";

const b64uHash = (text) => Buffer.from(digest(text, "sha-256")).toString("base64url");
const ecPublic = (jwk) => ({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y });

async function keygen() {
  const { publicKey, privateKey } = await ES256.generateKeyPair();
  return {
    public_jwk: ecPublic(publicKey),
    private_jwk: { ...ecPublic(privateKey), d: privateKey.d },
  };
}

// The key and the URI SAN of the first x5c certificate (standard base64 DER, RFC 7515 4.1.6).
function x5cLeaf(header) {
  if (!Array.isArray(header.x5c) || header.x5c.length === 0) {
    throw new Error("no x5c in the issuer-signed JWT header");
  }
  const cert = new X509Certificate(Buffer.from(header.x5c[0], "base64"));
  return { jwk: cert.publicKey.export({ format: "jwk" }), san: cert.subjectAltName ?? "" };
}

// RFC 9901 7.1: every disclosure must be referenced from the issuer-signed payload, directly
// or through another referenced disclosure. The library only skips unreferenced ones.
function unreferencedDisclosures(sdJwt) {
  const [jwt, ...rest] = sdJwt.split("~");
  const encoded = rest.slice(0, -1);
  const payload = JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
  const byDigest = new Map(encoded.map((d) => [b64uHash(d), d]));
  const referenced = new Set();
  const collect = (v) => {
    if (Array.isArray(v)) {
      v.forEach(collect);
    } else if (v && typeof v === "object") {
      if (Array.isArray(v._sd)) v._sd.forEach((d) => typeof d === "string" && referenced.add(d));
      const keys = Object.keys(v);
      if (keys.length === 1 && typeof v["..."] === "string") referenced.add(v["..."]);
      Object.values(v).forEach(collect);
    }
  };
  collect(payload);
  const opened = new Set();
  for (let grew = true; grew; ) {
    grew = false;
    for (const [dig, d] of byDigest) {
      if (referenced.has(dig) && !opened.has(dig)) {
        opened.add(dig);
        grew = true;
        collect(JSON.parse(Buffer.from(d, "base64url").toString("utf8")).at(-1));
      }
    }
  }
  return [...byDigest.keys()].filter((dig) => !referenced.has(dig));
}

async function verify(req) {
  const header = Buffer.from(req.sd_jwt.split(".")[0], "base64url").toString("utf8");
  const leaf = x5cLeaf(JSON.parse(header));
  const given = ecPublic(req.issuer_jwk);
  if (leaf.jwk.x !== given.x || leaf.jwk.y !== given.y || leaf.jwk.crv !== given.crv) {
    throw new Error("the x5c leaf certificate does not hold the issuer key given");
  }
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    verifier: await ES256.getVerifier(given),
    // The holder key is the credential's cnf.jwk, as the library hands it over.
    kbVerifier: async (data, sig, payload) =>
      (await ES256.getVerifier(ecPublic(payload.cnf.jwk)))(data, sig),
  });
  const payload = JSON.parse(
    Buffer.from(req.sd_jwt.split("~")[0].split(".")[1], "base64url").toString("utf8"),
  );
  const options = req.nonce ? { keyBindingNonce: req.nonce } : {};
  const result = await sdjwt.verify(req.sd_jwt, options);
  if (req.nonce) {
    // The library checks the KB-JWT's signature, typ, nonce and sd_hash, not its audience.
    if (!result.kb) throw new Error("no key binding JWT");
    if (result.kb.payload.aud !== req.aud) throw new Error("KB-JWT aud is not the verifier");
  } else if (!req.sd_jwt.endsWith("~")) {
    throw new Error("a key binding JWT is present but no nonce was given to check it");
  }
  const unreferenced = unreferencedDisclosures(req.sd_jwt);
  if (unreferenced.length > 0) {
    throw new Error(
      `${unreferenced.length} disclosure(s) not referenced by the issuer-signed JWT (RFC 9901 7.1)`,
    );
  }
  return {
    header: result.header,
    claims: result.payload,
    // The selectively disclosed claims: those not in the issuer-signed payload itself.
    disclosed: Object.keys(result.payload)
      .filter((k) => !(k in payload))
      .sort(),
    kb: result.kb?.payload,
    x5c_san: leaf.san,
  };
}

async function present(req) {
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    kbSigner: await ES256.getSigner(req.holder_jwk),
    kbSignAlg: ES256.alg,
  });
  const frame = Object.fromEntries(req.disclose.map((name) => [name, true]));
  const presentation = await sdjwt.present(req.credential, frame, {
    kb: {
      payload: { iat: Math.floor(Date.now() / 1000), aud: req.aud, nonce: req.nonce },
    },
  });
  return { presentation };
}

const modes = { keygen, verify, present };
let input = "";
for await (const chunk of process.stdin) input += chunk;
try {
  const req = JSON.parse(input);
  const mode = modes[req.mode];
  if (!mode) throw new Error(`unknown mode ${req.mode}`);
  process.stdout.write(`${JSON.stringify(await mode(req))}\n`);
} catch (e) {
  process.stderr.write(`${e.name ?? "Error"}: ${e.message}\n`);
  process.exit(1);
}
