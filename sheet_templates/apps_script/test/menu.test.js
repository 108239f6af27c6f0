// The Invoicing menu (Code.gs) under node's test runner, with the Apps Script globals stubbed.
// Run: cd sheet_templates/apps_script && node --test test/

'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const SOURCE = fs.readFileSync(path.join(__dirname, '..', 'Code.gs'), 'utf8');
const BASE = 'https://europe-west1-acme.cloudfunctions.net';

/** A fresh Apps Script world: scripted prompts, confirmations and HTTP answers; everything recorded. */
function world({ prompts = [], confirms = [], answers = [], properties = { INVOICING_FUNCTIONS_URL: BASE },
  fetchThrows = null, today = new Date(2026, 10, 24), idToken = 'eyJ.id-token.sig' } = {}) {
  const rec = { menus: [], alerts: [], prompts: [], toasts: [], fetches: [], logs: [] };
  const Button = { OK: 'OK', CANCEL: 'CANCEL', YES: 'YES', NO: 'NO' };
  const ButtonSet = { OK: 'OK', OK_CANCEL: 'OK_CANCEL', YES_NO: 'YES_NO' };
  const ui = {
    Button, ButtonSet,
    createMenu(title) {
      const menu = { title, items: [] };
      rec.menus.push(menu);
      const builder = {
        addItem(caption, fn) { menu.items.push([caption, fn]); return builder; },
        addSeparator() { menu.items.push(['---']); return builder; },
        addToUi() { menu.added = true; },
      };
      return builder;
    },
    prompt(title, message, buttons) {
      rec.prompts.push({ title, message, buttons });
      const next = prompts.length ? prompts.shift() : { button: 'OK', text: '' };
      return { getSelectedButton: () => next.button, getResponseText: () => next.text };
    },
    alert(title, message, buttons) {
      rec.alerts.push({ title, message, buttons });
      if (buttons === 'YES_NO') return confirms.length ? confirms.shift() : 'NO';
      return 'OK';
    },
  };
  class FixedDate extends Date {
    constructor(...args) { if (args.length) super(...args); else super(today.getTime()); }
  }
  const context = {
    Date: FixedDate,
    SpreadsheetApp: {
      getUi: () => ui,
      getActive: () => ({ toast: (msg, title, secs) => rec.toasts.push({ msg, title, secs }) }),
    },
    ScriptApp: { getIdentityToken: () => idToken },
    Utilities: {
      base64DecodeWebSafe: (text) => Array.from(Buffer.from(text, 'base64url')),
      newBlob: (bytes) => ({ getDataAsString: () => Buffer.from(bytes).toString('utf8') }),
    },
    Logger: { log: (text) => rec.logs.push(text) },
    PropertiesService: { getScriptProperties: () => ({ getProperty: (k) => properties[k] || null }) },
    UrlFetchApp: {
      fetch(url, options) {
        rec.fetches.push({ url, options, payload: JSON.parse(options.payload) });
        if (fetchThrows) throw new Error(fetchThrows);
        const a = answers.shift();
        assert.ok(a, `unexpected call to ${url}`);
        const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
        return { getResponseCode: () => a.code, getContentText: () => text };
      },
    },
  };
  vm.createContext(context);
  vm.runInContext(SOURCE, context, { filename: 'Code.gs' });
  return { g: context, rec };
}

const refreshSummary = {
  ok: true, command: 'refresh', period: '2026-11', imported: 120, new: 20, updated: 3, unchanged: 97,
  held_changes: 1, gone: 0, new_clients: ['Xenon Labs'], warnings: ['Time!H9: "1,5" is not a number (row kept as it is)'],
};
const draft = (extra = {}) => ({
  ok: true, command: 'create-invoices', period: '2026-10', accounting: 'QuickBooks Online (sandbox)',
  invoices: [{ number: null, client: 'Acme Retail', currency: 'USD', total: '12345.5', lines: 3, entries: 40 },
    { number: null, client: 'Dunmore & Co.', currency: 'GBP', total: '800.00', lines: 1, entries: 6 }],
  totals: { USD: '12345.50', GBP: '800.00' }, created: 0, existing: 0, warnings: [], ...extra,
});

test('onOpen adds the Invoicing menu with its four commands, each bound to a function that exists', () => {
  const { g, rec } = world();
  g.onOpen();
  assert.equal(rec.menus.length, 1);
  const menu = rec.menus[0];
  assert.equal(menu.title, 'Invoicing');
  assert.ok(menu.added);
  const items = menu.items.filter((i) => i.length === 2);
  assert.deepEqual(items.map((i) => i[0]),
    ['Refresh time data', 'Preview invoices', 'Create invoices', 'Correct an invoice (reissue)']);
  for (const [, fn] of items) assert.equal(typeof g[fn], 'function', fn);
});

test('Refresh posts the period with the ID token, shows progress, then the summary', () => {
  const { g, rec } = world({ prompts: [{ button: 'OK', text: '2026-11' }], answers: [{ code: 200, body: refreshSummary }] });
  g.refreshTimeData();
  assert.equal(rec.fetches.length, 1);
  const f = rec.fetches[0];
  assert.equal(f.url, `${BASE}/refresh`);
  assert.equal(f.options.method, 'post');
  assert.equal(f.options.contentType, 'application/json');
  assert.equal(f.options.headers.Authorization, 'Bearer eyJ.id-token.sig');
  assert.equal(f.options.muteHttpExceptions, true);
  assert.deepEqual(f.payload, { period: '2026-11' });
  assert.match(rec.toasts[0].msg, /Refreshing time data for Nov 2026/);
  assert.equal(rec.toasts[0].secs, -1);
  const dialog = rec.alerts.at(-1);
  assert.equal(dialog.title, 'Refresh time data');
  assert.match(dialog.message, /Imported 120 time entries for Nov 2026: 20 new, 3 updated, 97 unchanged\./);
  assert.match(dialog.message, /1 source changes to approved rows are held/);
  assert.match(dialog.message, /New clients added to the Clients tab: Xenon Labs/);
  assert.match(dialog.message, /1 warning:\n• Time!H9/);
});

test('a blank answer means this month for a refresh and last month for a preview', () => {
  const r = world({ answers: [{ code: 200, body: refreshSummary }] });
  r.g.refreshTimeData();
  assert.deepEqual(r.rec.fetches[0].payload, { period: '2026-11' });
  assert.match(r.rec.prompts[0].message, /leave it blank for Nov 2026/);
  const p = world({ answers: [{ code: 200, body: draft() }] });
  p.g.previewInvoices();
  assert.deepEqual(p.rec.fetches[0].payload, { period: '2026-10' });
  assert.match(p.rec.alerts[0].message, /2 invoices would be created for Oct 2026, totalling 12,345.50 USD \+ 800.00 GBP/);
  assert.match(p.rec.alerts[0].message, /• Acme Retail: 12,345.50 USD \(3 lines\)/);
});

test('January: last month is December of the year before', () => {
  const { g } = world({ today: new Date(2027, 0, 5) });
  assert.equal(g.defaultPeriod_('previous', new Date(2027, 0, 5)), '2026-12');
});

test('cancel or a malformed month calls nothing', () => {
  const c = world({ prompts: [{ button: 'CANCEL', text: '2026-10' }] });
  c.g.previewInvoices();
  assert.equal(c.rec.fetches.length, 0);
  assert.equal(c.rec.alerts.length, 0);
  const m = world({ prompts: [{ button: 'OK', text: 'Oct 2026' }] });
  m.g.previewInvoices();
  assert.equal(m.rec.fetches.length, 0);
  assert.match(m.rec.alerts[0].message, /"Oct 2026" is not a month; write it as YYYY-MM, for example 2026-10/);
});

test('Create invoices shows the dry run and creates only after Yes', () => {
  const created = draft({ created: 2, existing: 0,
    invoices: draft().invoices.map((i, n) => ({ ...i, number: `INV-10${n}`, status: 'created' })) });
  const { g, rec } = world({ confirms: ['YES'], answers: [{ code: 200, body: draft({ dry_run: true }) }, { code: 200, body: created }] });
  g.createInvoices();
  assert.deepEqual(rec.fetches.map((f) => f.payload), [{ period: '2026-10', dry_run: true }, { period: '2026-10' }]);
  assert.ok(rec.fetches.every((f) => f.url === `${BASE}/create_invoices`));
  const confirm = rec.alerts[0];
  assert.equal(confirm.buttons, 'YES_NO');
  assert.equal(confirm.title, 'Create invoices for Oct 2026?');
  assert.match(confirm.message, /2 invoices will be created/);
  assert.match(confirm.message, /Create them now in QuickBooks Online \(sandbox\)\?/);
  const done = rec.alerts[1];
  assert.match(done.message, /^Created 2 invoices\./);
  assert.match(done.message, /• INV-100 Acme Retail: 12,345.50 USD/);
});

test('Create invoices answered No creates nothing', () => {
  const { g, rec } = world({ confirms: ['NO'], answers: [{ code: 200, body: draft({ dry_run: true }) }] });
  g.createInvoices();
  assert.equal(rec.fetches.length, 1);
  assert.equal(rec.fetches[0].payload.dry_run, true);
  assert.equal(rec.toasts.at(-1).msg, 'Nothing was created.');
});

test('Create invoices with nothing approved says so and asks nothing', () => {
  const { g, rec } = world({ answers: [{ code: 200, body: draft({ invoices: [], totals: {} }) }] });
  g.createInvoices();
  assert.equal(rec.fetches.length, 1);
  assert.match(rec.alerts[0].message, /nothing to invoice for Oct 2026/);
  assert.equal(rec.alerts[0].buttons, 'OK');
});

test('errors come back in plain words', () => {
  const cases = [
    [403, { ok: false, error: { status: 'PERMISSION_DENIED', message: 'x@y.example may not call this function.' } },
      /^You are not allowed to run this\. x@y\.example may not call.*allowed callers\.$/s],
    [409, { ok: false, error: { status: 'LOCKED', message: 'Another create-invoices run started 12 s ago; wait for it to finish, then try again.' } },
      /^Another run is in progress\. .*wait for it to finish/],
    [422, { ok: false, error: { status: 'INVALID_INPUT', message: 'Found 12 problems in the Time tab; nothing was changed.',
      details: Array.from({ length: 12 }, (_, i) => `Time!H${i + 2}: "x" is not a number`) } },
      /nothing was changed\.\n\n• Time!H2: "x" is not a number[\s\S]*• Time!H11[\s\S]*… and 2 more\./],
    [503, { ok: false, error: { status: 'UNAVAILABLE', message: 'Google Sheets did not complete values:batchGet.' } },
      /try again in a minute/],
    [502, '<html>Bad Gateway</html>', /^The invoicing function answered 502: <html>Bad Gateway<\/html>$/],
  ];
  for (const [code, body, pattern] of cases) {
    const { g, rec } = world({ prompts: [{ button: 'OK', text: '2026-10' }], answers: [{ code, body }] });
    g.previewInvoices();
    const dialog = rec.alerts.at(-1);
    assert.equal(dialog.title, 'Preview invoices failed');
    assert.match(dialog.message, pattern, `HTTP ${code}`);
    assert.equal(rec.toasts.at(-1).msg, 'Failed.');
  }
});

test('a failed dry run stops Create invoices before the question', () => {
  const { g, rec } = world({ answers: [{ code: 401, body: { ok: false, error: { message: 'The request has no ID token.' } } }] });
  g.createInvoices();
  assert.equal(rec.fetches.length, 1);
  assert.equal(rec.alerts.length, 1);
  assert.equal(rec.alerts[0].title, 'Create invoices failed');
});

test('an unreachable function or a missing address is explained, not thrown', () => {
  const down = world({ fetchThrows: 'DNS error: https://nowhere' });
  down.g.refreshTimeData();
  assert.match(down.rec.alerts[0].message, /^Could not reach the invoicing function \(DNS error: https:\/\/nowhere\)/);
  const slow = world({ fetchThrows: 'Timeout: https://europe-west1-acme.cloudfunctions.net/refresh' });
  slow.g.refreshTimeData();
  assert.match(slow.rec.alerts[0].message, /still working[\s\S]*Runs tab/);
  const unset = world({ properties: {} });
  unset.g.refreshTimeData();
  assert.equal(unset.rec.fetches.length, 0);
  assert.match(unset.rec.alerts[0].message, /set the script property INVOICING_FUNCTIONS_URL/);
});

test('the manifest asks for the scopes the ID token and the calls need', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'appsscript.json'), 'utf8'));
  for (const scope of ['openid', 'https://www.googleapis.com/auth/userinfo.email',
    'https://www.googleapis.com/auth/script.external_request']) {
    assert.ok(manifest.oauthScopes.includes(scope), scope);
  }
  assert.equal(manifest.runtimeVersion, 'V8');
});

test('logIdentityAudience prints the client id the functions must accept', () => {
  const claims = { aud: '1234-abc.apps.googleusercontent.com', email: 'ops@agency.example', n: 'x?>' };
  const token = ['e30', Buffer.from(JSON.stringify(claims)).toString('base64url'), 'sig'].join('.');
  const { g, rec } = world({ idToken: token });
  assert.equal(g.logIdentityAudience(), '1234-abc.apps.googleusercontent.com');
  assert.match(rec.logs[0], /^APPS_SCRIPT_CLIENT_ID=1234-abc\.apps\.googleusercontent\.com +\(token for ops@agency\.example\)$/);
});

const reissuePlan = (extra = {}) => ({
  ok: true, command: 'reissue', period: '2026-10', accounting: 'QuickBooks Online (sandbox)', client: 'Acme Retail',
  outcome: 'preview', replaces: '1042', dry_run: true,
  message: 'Would void 1042 (12,345.50 USD) and create the corrected invoice (11,900.00 USD, 3 lines) with the next number.',
  invoices: [{ number: null, client: 'Acme Retail', currency: 'USD', total: '11900.00', lines: 3, entries: 39 }],
  totals: { USD: '11900.00' }, created: 0, existing: 0, warnings: [], ...extra,
});

test('Correct an invoice shows the dry run of the reissue and reissues only after Yes', () => {
  const done = reissuePlan({ outcome: 'reissued', dry_run: false, voided: ['1042'], created: 1,
    message: '1042 is void; 1043 replaces it (11,900.00 USD), and the Time rows point at 1043.' });
  const { g, rec } = world({
    prompts: [{ button: 'OK', text: ' Acme Retail ' }, { button: 'OK', text: '2026-10' }], confirms: ['YES'],
    answers: [{ code: 200, body: reissuePlan() }, { code: 200, body: done }],
  });
  g.reissueInvoice();
  assert.deepEqual(rec.fetches.map((f) => f.payload), [
    { period: '2026-10', reissue: 'Acme Retail', dry_run: true }, { period: '2026-10', reissue: 'Acme Retail' }]);
  assert.ok(rec.fetches.every((f) => f.url === `${BASE}/create_invoices`));
  const confirm = rec.alerts[0];
  assert.equal(confirm.buttons, 'YES_NO');
  assert.equal(confirm.title, "Reissue Acme Retail's invoice for Oct 2026?");
  assert.match(confirm.message, /^Would void 1042 \(12,345.50 USD\)/);
  assert.match(confirm.message, /1 invoice will replace it for Oct 2026, totalling 11,900.00 USD/);
  assert.match(confirm.message, /Void 1042 and create the corrected invoice in QuickBooks Online \(sandbox\)\?$/);
  assert.match(rec.alerts[1].message, /^1042 is void; 1043 replaces it[\s\S]*the Invoices tab marks 1042 void\.$/);
});

test('Correct an invoice: No, nothing to correct, a blank client and a refusal change nothing', () => {
  const no = world({ prompts: [{ button: 'OK', text: 'Acme Retail' }], confirms: ['NO'],
    answers: [{ code: 200, body: reissuePlan() }] });
  no.g.reissueInvoice();
  assert.equal(no.rec.fetches.length, 1);
  assert.equal(no.rec.toasts.at(-1).msg, 'Nothing was voided or created.');
  const same = world({ prompts: [{ button: 'OK', text: 'Acme Retail' }], answers: [{ code: 200,
    body: reissuePlan({ outcome: 'up to date', message: '1042 already bills what the sheet says; nothing was voided or created.' }) }] });
  same.g.reissueInvoice();
  assert.equal(same.rec.fetches.length, 1);
  assert.equal(same.rec.alerts[0].buttons, 'OK');
  assert.match(same.rec.alerts[0].message, /nothing was voided or created/);
  const blank = world({ prompts: [{ button: 'OK', text: '  ' }] });
  blank.g.reissueInvoice();
  assert.equal(blank.rec.fetches.length, 0);
  assert.match(blank.rec.alerts[0].message, /Type the client's name/);
  const paid = world({ prompts: [{ button: 'OK', text: 'Acme Retail' }], answers: [{ code: 422, body: { ok: false,
    error: { status: 'FAILED_PRECONDITION', message: "Acme Retail's invoice 1042 for 2026-10 cannot be reissued: it is paid (payment linked to it). Nothing was voided." } } }] });
  paid.g.reissueInvoice();
  assert.equal(paid.rec.fetches.length, 1);
  assert.equal(paid.rec.alerts[0].title, 'Correct an invoice failed');
  assert.match(paid.rec.alerts[0].message, /cannot be reissued: it is paid/);
});
