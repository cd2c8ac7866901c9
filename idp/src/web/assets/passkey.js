// Passkey login (button and autofill) and binding, over the JSON API at /webauthn/*.
// Options and credentials travel in the WebAuthn JSON encoding (base64url).
(function () {
  'use strict';

  function fromB64u(s) {
    var b64 = s.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) b64 += '=';
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toB64u(buf) {
    var bytes = new Uint8Array(buf);
    var bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function withIds(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: fromB64u(c.id) });
    });
  }

  function creationOptions(pk) {
    var o = Object.assign({}, pk);
    o.challenge = fromB64u(pk.challenge);
    o.user = Object.assign({}, pk.user, { id: fromB64u(pk.user.id) });
    o.excludeCredentials = withIds(pk.excludeCredentials);
    return o;
  }

  function requestOptions(pk) {
    var o = Object.assign({}, pk);
    o.challenge = fromB64u(pk.challenge);
    o.allowCredentials = withIds(pk.allowCredentials);
    return o;
  }

  // PublicKeyCredential.toJSON() where the browser has it; the same shape by hand otherwise.
  function credentialJSON(cred) {
    if (typeof cred.toJSON === 'function') return cred.toJSON();
    var r = cred.response;
    var response = { clientDataJSON: toB64u(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64u(r.attestationObject);
      if (r.getTransports) response.transports = r.getTransports();
    } else {
      response.authenticatorData = toB64u(r.authenticatorData);
      response.signature = toB64u(r.signature);
      if (r.userHandle) response.userHandle = toB64u(r.userHandle);
    }
    return {
      id: cred.id,
      rawId: toB64u(cred.rawId),
      type: cred.type,
      response: response,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
    };
  }

  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        if (!res.ok) {
          var e = new Error(json.error || 'error');
          e.serverMessage = json.error_description;
          e.code = json.error;
          throw e;
        }
        return json;
      });
    });
  }

  function reporter(box) {
    var status = box.querySelector('#passkey-status');
    return function (text, failed) {
      status.textContent = text || '';
      status.className = failed ? 'status error' : 'status';
    };
  }

  function explain(box, err) {
    // Messages from the server are already in the page's language.
    return err && err.serverMessage ? err.serverMessage : box.dataset.cancelled;
  }

  function finishLogin(box, ceremony, cred) {
    return post('/webauthn/login/finish', { ceremony: ceremony, credential: credentialJSON(cred) })
      .then(function (res) {
        // Without an authorization request, go back to the page that sent the citizen here.
        window.location.assign(box.dataset.req ? res.redirect_to : (box.dataset.next || res.redirect_to));
      });
  }

  var autofill = null;

  function loginWithAutofill(box) {
    var pkc = window.PublicKeyCredential;
    if (!pkc || !pkc.isConditionalMediationAvailable) return;
    pkc.isConditionalMediationAvailable().then(function (ok) {
      if (!ok) return;
      return post('/webauthn/login/start', { req: box.dataset.req, mediation: 'conditional' })
        .then(function (opts) {
          autofill = new AbortController();
          return navigator.credentials.get({
            publicKey: requestOptions(opts.publicKey),
            mediation: 'conditional',
            signal: autofill.signal,
          }).then(function (cred) { return finishLogin(box, opts.ceremony, cred); });
        });
    }).catch(function (err) {
      if (err && err.name === 'AbortError') return;
      if (err && err.serverMessage) reporter(box)(err.serverMessage, true);
    });
  }

  function loginWithButton(box) {
    var report = reporter(box);
    if (autofill) { autofill.abort(); autofill = null; }
    report(box.dataset.working);
    post('/webauthn/login/start', { req: box.dataset.req })
      .then(function (opts) {
        return navigator.credentials.get({ publicKey: requestOptions(opts.publicKey) })
          .then(function (cred) { return finishLogin(box, opts.ceremony, cred); });
      })
      .catch(function (err) { report(explain(box, err), true); });
  }

  function bind(box) {
    var report = reporter(box);
    var name = box.querySelector('#passkey-name').value;
    report(box.dataset.working);
    post('/webauthn/register/start', { name: name })
      .then(function (opts) {
        return navigator.credentials.create({ publicKey: creationOptions(opts.publicKey) })
          .then(function (cred) {
            return post('/webauthn/register/finish', {
              ceremony: opts.ceremony,
              credential: credentialJSON(cred),
            });
          });
      })
      .then(function () {
        report(box.dataset.done);
        window.location.reload();
      })
      .catch(function (err) { report(explain(box, err), true); });
  }

  function ready() {
    if (!window.PublicKeyCredential || !navigator.credentials) return;
    var login = document.getElementById('passkey-login');
    if (login) {
      login.hidden = false;
      document.getElementById('passkey-login-button')
        .addEventListener('click', function () { loginWithButton(login); });
      loginWithAutofill(login);
    }
    var binding = document.getElementById('passkey-bind');
    if (binding) {
      binding.hidden = false;
      document.getElementById('passkey-bind-button')
        .addEventListener('click', function () { bind(binding); });
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else {
    ready();
  }
})();
