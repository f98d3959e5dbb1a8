/* A reflection's live word count, autosaved drafts and a copy kept on this device.
 *
 * Typing updates the word count at once (announced politely after a pause); a couple of
 * seconds after typing stops, the text is posted as JSON {"body": "..."} to data-draft-url with
 * the CSRF token in X-CSRFToken. Until the server confirms, a copy stays in localStorage so
 * nothing typed is lost if the session expired; on load a newer local copy is restored.
 */
(function () {
  "use strict";
  var form = document.getElementById("reflection-form");
  var textarea = document.getElementById("body");
  if (!form || !textarea) { return; }
  var data = form.dataset;
  var count = document.getElementById("body-count");
  var countLive = document.getElementById("body-count-live");
  var status = document.getElementById("draft-status");
  var key = data.storageKey;
  var submitted = data.submitted === "true";
  var SAVE_AFTER_MS = 2000;
  var saveTimer = null;
  var announceTimer = null;
  var WORD = /[\p{L}\p{N}_\p{M}]+(?:[-'\u2019][\p{L}\p{N}_\p{M}]+)*/gu;

  function words(text) { var m = text.match(WORD); return m ? m.length : 0; }
  function wordText(n) { return (n === 1 ? data.msgWordOne : data.msgWordMany).replace("{n}", n); }

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }
  function keepLocal() {
    var s = storage();
    if (!s) { return; }
    try { s.setItem(key, JSON.stringify({ body: textarea.value, savedAt: Date.now() })); } catch (e) { /* full or blocked */ }
  }
  function readLocal() {
    var s = storage();
    if (!s) { return null; }
    try { return JSON.parse(s.getItem(key) || "null"); } catch (e) { return null; }
  }
  function forgetLocal() {
    var s = storage();
    if (s) { try { s.removeItem(key); } catch (e) { /* ignore */ } }
  }

  function updateCount(announce) {
    var text = wordText(words(textarea.value));
    if (count) { count.textContent = text; }
    if (announce && countLive) {
      window.clearTimeout(announceTimer);
      announceTimer = window.setTimeout(function () { countLive.textContent = text; }, 1200);
    }
  }

  function saveDraft() {
    var body = textarea.value;
    fetch(data.draftUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": data.csrfToken, "Accept": "application/json" },
      body: JSON.stringify({ body: body })
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (result) {
      if (result.saved) {
        if (textarea.value === body) { forgetLocal(); }
        status.textContent = data.msgSaved;
      } else {
        status.textContent = data.msgKept;
      }
    }).catch(function () {
      status.textContent = data.msgFailed;
    });
  }

  // Restore a local copy that is newer than what the server has and differs from it.
  var local = readLocal();
  if (local && typeof local.body === "string") {
    var serverTime = data.serverSavedAt ? Date.parse(data.serverSavedAt) : 0;
    if (local.body !== textarea.value && (!serverTime || local.savedAt > serverTime)) {
      textarea.value = local.body;
      status.textContent = data.msgRestored;
    } else if (local.body === textarea.value || local.savedAt <= serverTime) {
      forgetLocal();
    }
  }
  updateCount(false);

  textarea.addEventListener("input", function () {
    keepLocal();
    updateCount(true);
    window.clearTimeout(saveTimer);
    if (!submitted) {
      saveTimer = window.setTimeout(saveDraft, SAVE_AFTER_MS);
    } else {
      saveTimer = window.setTimeout(function () { status.textContent = data.msgKept; }, SAVE_AFTER_MS);
    }
  });
  // Leave the local copy in place while the form is being sent: if the server refuses it
  // (an expired session), the text is restored on the next page.
  form.addEventListener("submit", function () { keepLocal(); });
})();
