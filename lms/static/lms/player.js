/* Records the parts of a recording that were actually played and reports them.
 *
 * A range starts when playback starts (or resumes after a seek) and ends at a pause, a seek,
 * the end, or a report. Skipped time is never part of a range. Ranges are sent as JSON
 * {"segments": [[start, end], ...], "duration": d} to data-progress-url every ~10 s and on
 * pause, end and pagehide, with the CSRF token in the X-CSRFToken header.
 */
(function () {
  "use strict";
  var video = document.getElementById("lms-video");
  if (!video || !video.dataset.progressUrl) { return; }

  var REPORT_EVERY_MS = 10000;
  var MAX_JUMP = 1.5; // seconds between two timeupdates beyond which we assume a seek
  var pending = [];   // closed ranges not yet sent
  var current = null; // the open range [start, end]
  var lastTime = null;
  var sending = false;
  var lastAnnouncedDone = false;
  var bar = document.getElementById("watch-progress-bar");
  var text = document.getElementById("watch-progress-text");
  var status = document.getElementById("watch-status");

  function closeRange() {
    if (current && current[1] - current[0] > 0.05) { pending.push([current[0], current[1]]); }
    current = null;
  }

  function duration() {
    var d = video.duration;
    if (isFinite(d) && d > 0) { return d; }
    var fromPage = parseFloat(video.dataset.duration);
    return isFinite(fromPage) && fromPage > 0 ? fromPage : null;
  }

  video.addEventListener("timeupdate", function () {
    var t = video.currentTime;
    if (video.paused || video.seeking) { lastTime = t; return; }
    if (current === null || lastTime === null || t < lastTime || t - lastTime > MAX_JUMP * Math.max(1, video.playbackRate)) {
      closeRange();
      current = [t, t];
    } else {
      current[1] = t;
    }
    lastTime = t;
  });
  video.addEventListener("seeking", function () { closeRange(); lastTime = null; });
  video.addEventListener("pause", function () { closeRange(); send(false); });
  video.addEventListener("ended", function () {
    if (current) { current[1] = Math.max(current[1], video.currentTime); }
    closeRange();
    send(false);
  });
  window.addEventListener("pagehide", function () { closeRange(); send(true); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { send(true); }
  });
  window.setInterval(function () {
    if (current && !video.paused) {
      // Report what has played so far and carry on from here.
      closeRange();
      current = [video.currentTime, video.currentTime];
      lastTime = video.currentTime;
    }
    send(false);
  }, REPORT_EVERY_MS);

  function show(result) {
    var percent = result.percent;
    if (bar) { bar.value = percent; bar.textContent = percent + "%"; }
    if (text && video.dataset.msgText) { text.textContent = video.dataset.msgText.replace("{percent}", percent); }
    if (status && result.done && !lastAnnouncedDone) {
      status.textContent = video.dataset.msgDone || "";
      lastAnnouncedDone = true;
    }
  }

  function send(leaving) {
    var d = duration();
    if (!pending.length || d === null || (sending && !leaving)) { return; }
    var batch = pending.splice(0, 200);
    var body = JSON.stringify({ segments: batch, duration: d });
    var headers = { "Content-Type": "application/json", "X-CSRFToken": video.dataset.csrfToken, "Accept": "application/json" };
    sending = true;
    fetch(video.dataset.progressUrl, { method: "POST", headers: headers, body: body, credentials: "same-origin", keepalive: !!leaving })
      .then(function (response) {
        if (response.status >= 400 && response.status < 500) {
          // Refused (an expired session, say): sending the same again would not help.
          throw new Error("refused");
        }
        if (!response.ok) { pending = batch.concat(pending); throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (result) { show(result); })
      .catch(function (error) {
        if (error && error.message !== "refused" && pending.indexOf(batch[0]) < 0) {
          pending = batch.concat(pending); // a network failure: try again with the next report
        }
        if (status && !leaving) { status.textContent = video.dataset.msgFailed || ""; }
      })
      .then(function () { sending = false; });
  }
})();
