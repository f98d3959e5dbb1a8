/* The interactive transcript under the player.
 *
 * The page already lists the timed passages (that is the transcript without JavaScript; each
 * time links to the recording at that point). Here: the passage being played is marked with
 * aria-current and kept in view inside the list (the list scrolls, never the page, and focus
 * never moves); choosing a time (click, or Enter on the link) seeks the player there instead of
 * leaving the page; and the search box shows only the passages that contain what was typed.
 * Nothing is announced while the recording plays: only the search reports its count.
 */
(function () {
  "use strict";
  var video = document.getElementById("lms-video");
  var list = document.getElementById("transcript-cues");
  if (!video || !list) { return; }

  var items = Array.prototype.slice.call(list.querySelectorAll(".transcript-cue"));
  var cues = items.map(function (item) {
    var textElement = item.querySelector(".transcript-text");
    return {
      item: item,
      start: parseFloat(item.dataset.start),
      end: parseFloat(item.dataset.end),
      textElement: textElement,
      text: textElement.textContent
    };
  });
  var current = null;

  function cueAt(time) {
    var found = null;
    for (var i = 0; i < cues.length; i++) {
      if (cues[i].start <= time + 0.05 && time < cues[i].end) { found = cues[i]; }
      if (cues[i].start > time + 0.05) { break; }
    }
    return found;
  }

  function keepInView(cue) {
    if (list.contains(document.activeElement) || cue.item.hidden) { return; } // the reader is in the list
    var top = cue.item.offsetTop - list.offsetTop;
    var bottom = top + cue.item.offsetHeight;
    if (top < list.scrollTop || bottom > list.scrollTop + list.clientHeight) {
      list.scrollTop = Math.max(0, top - list.clientHeight / 3);
    }
  }

  function follow() {
    var cue = cueAt(video.currentTime);
    if (cue === current) { return; }
    if (current) { current.item.removeAttribute("aria-current"); }
    current = cue;
    if (cue) {
      cue.item.setAttribute("aria-current", "true");
      keepInView(cue);
    }
  }

  video.addEventListener("timeupdate", follow);
  video.addEventListener("seeked", follow);

  list.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".transcript-time") : null;
    if (!link) { return; }
    event.preventDefault();
    var item = link.closest(".transcript-cue");
    var start = parseFloat(item.dataset.start);
    if (!isFinite(start)) { return; }
    video.currentTime = start;
    follow();
    var playing = video.play();
    if (playing && playing.catch) { playing.catch(function () { /* autoplay refused: the player shows its controls */ }); }
  });

  // --- search ---------------------------------------------------------------------------
  var searchBox = document.getElementById("transcript-search");
  var query = document.getElementById("transcript-query");
  var matches = document.getElementById("transcript-matches");
  if (!searchBox || !query || !matches) { return; }
  searchBox.hidden = false;

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLocaleLowerCase();
  }

  function show(cue, at, length) {
    var element = cue.textElement;
    element.textContent = "";
    if (at < 0 || length === 0) { element.textContent = cue.text; return; }
    element.appendChild(document.createTextNode(cue.text.slice(0, at)));
    var mark = document.createElement("mark");
    mark.textContent = cue.text.slice(at, at + length);
    element.appendChild(mark);
    element.appendChild(document.createTextNode(cue.text.slice(at + length)));
  }

  var pending = null;
  function search() {
    var wanted = fold(query.value.trim());
    var count = 0;
    cues.forEach(function (cue) {
      var folded = fold(cue.text);
      var at = wanted ? folded.indexOf(wanted) : -1;
      cue.item.hidden = Boolean(wanted) && at < 0;
      if (!cue.item.hidden) { count += 1; }
      // Folding keeps one character per character for most text; where it does not, the
      // passage still shows, without a mark at offsets that would not line up.
      show(cue, folded.length === cue.text.length ? at : -1, wanted.length);
    });
    if (!wanted) { matches.textContent = ""; return; }
    var template = count === 0 ? matches.dataset.msgNone : (count === 1 ? matches.dataset.msgOne : matches.dataset.msgMany);
    matches.textContent = (template || "").replace("{n}", String(count));
  }

  query.addEventListener("input", function () {
    // Announce the count once typing pauses, not on every key.
    window.clearTimeout(pending);
    pending = window.setTimeout(search, 250);
  });
  query.addEventListener("search", search);
})();
