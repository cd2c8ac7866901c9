// QR-code login on the login page: draws a code, waits for the government app's answer by long
// polling, draws a new code when one expires, and continues the login when it is confirmed.
(function () {
  'use strict';
  var box = document.getElementById('qr-login');
  if (!box) return;
  var image = document.getElementById('qr-image');
  var status = document.getElementById('qr-status');
  var link = document.getElementById('qr-link');

  function show(state) {
    status.textContent = box.dataset[state] || '';
  }

  function draw() {
    return fetch('/qr/start', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ req: box.dataset.req }),
    }).then(function (res) {
      if (!res.ok) throw new Error('start');
      return res.json();
    }).then(function (code) {
      image.src = code.image;
      link.href = code.payload;
      link.dataset.payload = code.payload;
      box.hidden = false;
      show('waiting');
      return watch(code.id, 'waiting');
    });
  }

  function watch(id, since) {
    return fetch('/qr/status?id=' + encodeURIComponent(id) + '&since=' + since, {
      credentials: 'same-origin',
    }).then(function (res) {
      if (!res.ok) throw new Error('status');
      return res.json();
    }).then(function (answer) {
      if (answer.redirect_to) {
        show('approved');
        var next = box.dataset.req ? answer.redirect_to : (box.dataset.next || answer.redirect_to);
        window.location.assign(next);
        return;
      }
      show(answer.status);
      if (answer.status === 'expired' || answer.status === 'denied' || answer.status === 'done') {
        return draw();
      }
      return watch(id, answer.status);
    });
  }

  function start() {
    draw().catch(function () {
      // The network or the server is away: try again shortly, without hammering.
      setTimeout(start, 5000);
    });
  }

  start();
})();
