/**
 * The sheet's "Invoicing" menu: Refresh time data, Preview invoices, Create invoices, Correct an invoice.
 *
 * Each item calls its Cloud Function (refresh, preview, create_invoices) with the user's Google ID token
 * (ScriptApp.getIdentityToken(); the function checks it and the user's email), shows a toast while it
 * runs, and a dialog with the summary or the error in plain words. Create invoices first asks the
 * function for a dry run and shows what would be created, then asks for confirmation. Correct an invoice
 * (a reissue: void the client's invoice, create the corrected one, move its Time rows) does the same with
 * create_invoices' `reissue` parameter.
 *
 * Set-up (docs/google.md): Extensions > Apps Script > Project Settings > Script Properties:
 *   INVOICING_FUNCTIONS_URL = https://REGION-PROJECT.cloudfunctions.net   (where the three functions live)
 */

var MENU_TITLE = 'Invoicing';
var PERIOD_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;
var MAX_LISTED = 10;

function onOpen() {
  SpreadsheetApp.getUi()
    .createMenu(MENU_TITLE)
    .addItem('Refresh time data', 'refreshTimeData')
    .addItem('Preview invoices', 'previewInvoices')
    .addSeparator()
    .addItem('Create invoices', 'createInvoices')
    .addItem('Correct an invoice (reissue)', 'reissueInvoice')
    .addToUi();
}

function refreshTimeData() {
  var period = askPeriod_('Refresh time data', 'current');
  if (period === null) return;
  var result = call_('refresh', { period: period }, 'Refreshing time data for ' + label_(period) + '…');
  show_('Refresh time data', result, describeRefresh_);
}

function previewInvoices() {
  var period = askPeriod_('Preview invoices', 'previous');
  if (period === null) return;
  var result = call_('preview', { period: period }, 'Computing the invoices for ' + label_(period) + '…');
  show_('Preview invoices', result, function (s) {
    return describeInvoices_(s, 'would be created') + '\n\nThe Preview tab has every line.';
  });
}

function createInvoices() {
  var ui = SpreadsheetApp.getUi();
  var period = askPeriod_('Create invoices', 'previous');
  if (period === null) return;
  var dry = call_('create_invoices', { period: period, dry_run: true }, 'Checking what would be created…');
  if (!dry.ok) {
    show_('Create invoices', dry, null);
    return;
  }
  if (!dry.body.invoices || dry.body.invoices.length === 0) {
    ui.alert('Create invoices', 'There is nothing to invoice for ' + label_(period) +
      ': no approved, billable, not yet invoiced rows.', ui.ButtonSet.OK);
    return;
  }
  var question = describeInvoices_(dry.body, 'will be created') + '\n\nCreate them now in ' +
    (dry.body.accounting || 'the accounting system') + '?';
  if (ui.alert('Create invoices for ' + label_(period) + '?', question, ui.ButtonSet.YES_NO) !== ui.Button.YES) {
    SpreadsheetApp.getActive().toast('Nothing was created.', MENU_TITLE, 3);
    return;
  }
  var result = call_('create_invoices', { period: period }, 'Creating invoices for ' + label_(period) + '…');
  show_('Create invoices', result, describeCreated_);
}

/** Correct an invoice already created: asks the client and month, shows the dry run, voids and reissues on Yes. */
function reissueInvoice() {
  var ui = SpreadsheetApp.getUi();
  var title = 'Correct an invoice';
  var answer = ui.prompt(title, 'Whose invoice? Type the client as the Clients tab names it.', ui.ButtonSet.OK_CANCEL);
  if (answer.getSelectedButton() !== ui.Button.OK) return;
  var client = String(answer.getResponseText() || '').trim();
  if (client === '') {
    ui.alert(title, 'Type the client\'s name to correct its invoice; nothing was changed.', ui.ButtonSet.OK);
    return;
  }
  var period = askPeriod_(title, 'previous');
  if (period === null) return;
  var dry = call_('create_invoices', { period: period, reissue: client, dry_run: true },
    'Checking the correction for ' + client + '…');
  if (!dry.ok) {
    show_(title, dry, null);
    return;
  }
  if (dry.body.outcome !== 'preview') {
    ui.alert(title, dry.body.message, ui.ButtonSet.OK);
    return;
  }
  var question = dry.body.message + '\n\n' + describeInvoices_(dry.body, 'will replace it') + '\n\nVoid ' +
    dry.body.replaces + ' and create the corrected invoice in ' + (dry.body.accounting || 'the accounting system') + '?';
  if (ui.alert('Reissue ' + client + '\'s invoice for ' + label_(period) + '?', question, ui.ButtonSet.YES_NO) !==
    ui.Button.YES) {
    SpreadsheetApp.getActive().toast('Nothing was voided or created.', MENU_TITLE, 3);
    return;
  }
  var result = call_('create_invoices', { period: period, reissue: client }, 'Reissuing ' + client + '\'s invoice…');
  show_(title, result, function (s) {
    return s.message + '\n\nThe Time tab shows the new number on the corrected rows; the Invoices tab marks ' +
      (s.replaces || 'the old invoice') + ' void.';
  });
}

/** Asks for the month; returns "2026-10", the default keyword for a blank answer, or null when cancelled. */
function askPeriod_(title, fallback) {
  var ui = SpreadsheetApp.getUi();
  var suggested = defaultPeriod_(fallback, new Date());
  var answer = ui.prompt(title, 'Which month? Type it as YYYY-MM, or leave it blank for ' + label_(suggested) + '.',
    ui.ButtonSet.OK_CANCEL);
  if (answer.getSelectedButton() !== ui.Button.OK) return null;
  var text = String(answer.getResponseText() || '').trim();
  if (text === '') return suggested;
  if (!PERIOD_PATTERN.test(text)) {
    ui.alert(title, '"' + text + '" is not a month; write it as YYYY-MM, for example ' + suggested + '.',
      ui.ButtonSet.OK);
    return null;
  }
  return text;
}

function defaultPeriod_(which, today) {
  var year = today.getFullYear();
  var month = today.getMonth() + 1;
  if (which === 'previous') {
    month -= 1;
    if (month === 0) { month = 12; year -= 1; }
  }
  return year + '-' + (month < 10 ? '0' : '') + month;
}

function label_(period) {
  var names = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  var parts = String(period).split('-');
  return names[Number(parts[1]) - 1] + ' ' + parts[0];
}

/** Calls one function; returns {ok: true, body} or {ok: false, message} — never throws. */
function call_(name, payload, progress) {
  var base = PropertiesService.getScriptProperties().getProperty('INVOICING_FUNCTIONS_URL');
  if (!base) {
    return { ok: false, message: 'The menu is not connected yet: set the script property INVOICING_FUNCTIONS_URL ' +
      '(Extensions > Apps Script > Project Settings) to the address of the invoicing functions.' };
  }
  SpreadsheetApp.getActive().toast(progress, MENU_TITLE, -1);
  var response;
  try {
    response = UrlFetchApp.fetch(base.replace(/\/+$/, '') + '/' + name, {
      method: 'post',
      contentType: 'application/json',
      payload: JSON.stringify(payload),
      headers: { Authorization: 'Bearer ' + ScriptApp.getIdentityToken() },
      muteHttpExceptions: true
    });
  } catch (e) {
    var reason = e && e.message ? e.message : String(e);
    if (/time ?out|timed out/i.test(reason)) {
      // UrlFetchApp gives up after about 60 seconds, but the function keeps running to the end
      return { ok: false, message: 'The invoicing function is still working: this menu can wait only about a ' +
        'minute for it. Its result will appear in the Runs tab; look there in a few minutes before running it again.' };
    }
    return { ok: false, message: 'Could not reach the invoicing function (' + reason +
      '). Check your connection and INVOICING_FUNCTIONS_URL, then try again.' };
  }
  var code = response.getResponseCode();
  var text = response.getContentText();
  var body = null;
  try { body = JSON.parse(text); } catch (ignored) { body = null; }
  if (code === 200 && body && body.ok) return { ok: true, body: body };
  return { ok: false, message: explain_(code, body, text) };
}

/** An error answer in plain words: what happened, and what to do. */
function explain_(code, body, text) {
  var error = body && body.error ? body.error : null;
  var message = error ? error.message : 'The invoicing function answered ' + code + ': ' +
    String(text || '').slice(0, 200);
  var details = error && error.details ? error.details : [];
  var out = message;
  if (details.length) {
    out += '\n\n' + details.slice(0, MAX_LISTED).map(function (d) { return '• ' + d; }).join('\n');
    if (details.length > MAX_LISTED) out += '\n… and ' + (details.length - MAX_LISTED) + ' more.';
  }
  if (code === 401 || code === 403) {
    out = 'You are not allowed to run this. ' + out + '\n\nAsk whoever set up invoicing to add your Google ' +
      'account to the allowed callers.';
  } else if (code === 409) {
    out = 'Another run is in progress. ' + out;
  } else if (code === 503 || code === 429) {
    out += '\n\nThis is usually temporary: try again in a minute.';
  }
  return out;
}

function show_(title, result, describe) {
  var ui = SpreadsheetApp.getUi();
  if (!result.ok) {
    SpreadsheetApp.getActive().toast('Failed.', MENU_TITLE, 3);
    ui.alert(title + ' failed', result.message, ui.ButtonSet.OK);
    return;
  }
  SpreadsheetApp.getActive().toast('Done.', MENU_TITLE, 3);
  ui.alert(title, describe(result.body) + warnings_(result.body), ui.ButtonSet.OK);
}

function describeRefresh_(s) {
  var text = 'Imported ' + s.imported + ' time entries for ' + label_(s.period) + ': ' + s.new + ' new, ' +
    s.updated + ' updated, ' + s.unchanged + ' unchanged.';
  if (s.held_changes) text += '\n' + s.held_changes + ' source changes to approved rows are held for review (see Flags).';
  if (s.gone) text += '\n' + s.gone + ' rows are gone from the time tracker (see Flags).';
  if (s.new_clients && s.new_clients.length) {
    text += '\nNew clients added to the Clients tab: ' + s.new_clients.join(', ') + '. Fill in their terms.';
  }
  return text;
}

function describeInvoices_(s, verb) {
  var invoices = s.invoices || [];
  var lines = invoices.slice(0, MAX_LISTED).map(function (i) {
    return '• ' + (i.number ? i.number + ' ' : '') + i.client + ': ' + money_(i.total, i.currency) +
      ' (' + i.lines + ' lines)';
  });
  if (invoices.length > MAX_LISTED) lines.push('… and ' + (invoices.length - MAX_LISTED) + ' more');
  var text = invoices.length + ' invoice' + (invoices.length === 1 ? '' : 's') + ' ' + verb + ' for ' +
    label_(s.period) + totals_(s.totals) + (lines.length ? ':\n' + lines.join('\n') : '.');
  var held = Object.keys(s.held || {});
  if (held.length) {
    text += '\n\nHeld back: ' + held.map(function (c) { return c + ' (' + s.held[c] + ')'; }).join('; ');
  }
  return text;
}

function describeCreated_(s) {
  var text = 'Created ' + s.created + ' invoice' + (s.created === 1 ? '' : 's');
  if (s.existing) text += '; ' + s.existing + ' already existed and were not created again';
  text += '.\n\n' + describeInvoices_(s, 'in total');
  return text + '\n\nThe Time tab shows each row\'s invoice number; the Invoices tab links to them.';
}

function totals_(totals) {
  var keys = Object.keys(totals || {});
  if (!keys.length) return '';
  return ', totalling ' + keys.map(function (c) { return money_(totals[c], c); }).join(' + ');
}

function money_(amount, currency) {
  var n = Number(amount);
  var text = isNaN(n) ? String(amount) : n.toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return text + ' ' + currency;
}

function warnings_(s) {
  var warnings = s.warnings || [];
  if (!warnings.length) return '';
  var out = '\n\n' + warnings.length + ' warning' + (warnings.length === 1 ? '' : 's') + ':\n' +
    warnings.slice(0, MAX_LISTED).map(function (w) { return '• ' + w; }).join('\n');
  if (warnings.length > MAX_LISTED) out += '\n… and ' + (warnings.length - MAX_LISTED) + ' more (see the Runs tab).';
  return out;
}

/**
 * Run once from the Apps Script editor (docs/google.md, step 7): logs the audience of this script's ID
 * tokens, which deploy/env needs as APPS_SCRIPT_CLIENT_ID so the functions accept the menu's calls.
 */
function logIdentityAudience() {
  var part = ScriptApp.getIdentityToken().split('.')[1];
  while (part.length % 4) part += '=';
  var claims = JSON.parse(Utilities.newBlob(Utilities.base64DecodeWebSafe(part)).getDataAsString());
  Logger.log('APPS_SCRIPT_CLIENT_ID=' + claims.aud + '   (token for ' + claims.email + ')');
  return claims.aud;
}
