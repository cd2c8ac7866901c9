// Minimal HTML form reading for the harness's user agent. Providers render simple server-side
// forms (login, consent, form_post responses, logout confirmation); we only need their fields.

const decode = (s) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x2F;|&#47;/g, '/')
    .replace(/&#x3D;|&#61;/g, '=')
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&amp;/g, '&');

/** Attributes of one start tag, e.g. `<input type="hidden" name="a" value="b">`. */
export function attributes(tag) {
  const attrs = {};
  const re = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  const body = tag.replace(/^<\s*[a-zA-Z]+/, '').replace(/\/?>$/, '');
  let m;
  while ((m = re.exec(body))) {
    attrs[m[1].toLowerCase()] = decode(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

/**
 * Every <form> in the page: { method, action (absolute, resolved against baseUrl), inputs: [{type,name,value}],
 * buttons: [{name, value}] }.
 */
export function parseForms(html, baseUrl) {
  const forms = [];
  const formRe = /<form\b[^>]*>([\s\S]*?)<\/form\s*>/gi;
  let m;
  while ((m = formRe.exec(html))) {
    const open = m[0].match(/^<form\b[^>]*>/i)[0];
    const a = attributes(open);
    const inner = m[1];
    const inputs = [];
    for (const t of inner.match(/<input\b[^>]*>/gi) ?? []) {
      const ia = attributes(t);
      inputs.push({ type: (ia.type ?? 'text').toLowerCase(), name: ia.name, value: ia.value ?? '' });
    }
    const buttons = [];
    for (const b of inner.match(/<button\b[^>]*>/gi) ?? []) {
      const ba = attributes(b);
      if ((ba.type ?? 'submit').toLowerCase() === 'submit') buttons.push({ name: ba.name, value: ba.value ?? '' });
    }
    for (const i of inputs) if (i.type === 'submit') buttons.push({ name: i.name, value: i.value });
    forms.push({
      method: (a.method ?? 'get').toLowerCase(),
      action: new URL(a.action ?? baseUrl, baseUrl).href,
      inputs: inputs.filter((i) => i.type !== 'submit'),
      buttons,
    });
  }
  return forms;
}

/** Name/value pairs of the hidden inputs of a form. */
export function hiddenFields(form) {
  return form.inputs.filter((i) => i.type === 'hidden' && i.name).map((i) => [i.name, i.value]);
}
