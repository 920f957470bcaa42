// The strength meter of new-password fields: progressive enhancement only. It guesses in
// the browser how hard the password would be to guess and says so as the person types;
// the console checks the password itself (length, common and breached passwords, the
// login and e-mail) when the form is saved, and that check is the one that counts.
(function () {
  "use strict";
  var textsBlock = document.getElementById("password-meter-texts");
  var inputs = document.querySelectorAll("input[data-strength-meter]");
  if (!textsBlock || !inputs.length) {
    return;
  }
  var texts = JSON.parse(textsBlock.textContent);
  // Keyboard rows and runs: a character next to its neighbour here adds little.
  var RUNS = "abcdefghijklmnopqrstuvwxyz 0123456789 qwertyuiop asdfghjkl zxcvbnm 1qaz2wsx3edc";
  // The stems of the most common passwords, which guessers try first with any ending.
  var STEMS = ["password", "passw0rd", "qwerty", "letmein", "welcome", "iloveyou", "admin",
    "monkey", "dragon", "football", "baseball", "master", "sunshine", "princess", "trustno"];
  // Meter value and text for each level.
  var LEVELS = [[0, "weak"], [1, "weak"], [2, "fair"], [3, "good"], [4, "strong"]];

  function squash(text) {
    var folded = text.normalize ? text.normalize("NFKC") : text;
    return folded.toLowerCase().replace(/[\s\-_.,;:!?@#$%^&*()+=[\]{}<>'"`~\/\\|]/g, "");
  }

  function contextWords(input) {
    var words = (texts.context || []).slice();
    var form = input.form;
    ["login", "email"].forEach(function (name) {
      var field = form && form.elements.namedItem(name);
      if (field && field.value) {
        words.push(field.value);
      }
    });
    words.slice().forEach(function (word) {
      var at = word.lastIndexOf("@");
      if (at > 0) {
        words.push(word.slice(0, at));
      }
    });
    return words.map(squash).filter(function (word) {
      return word.length >= 3;
    }).sort(function (a, b) {
      return b.length - a.length;
    });
  }

  function without(value, words) {
    var rest = value;
    var found = false;
    words.forEach(function (word) {
      if (word && rest.indexOf(word) !== -1) {
        rest = rest.split(word).join("");
        found = true;
      }
    });
    return {rest: rest, found: found};
  }

  // A rough guess in bits: the variety of characters times a length that counts repeats,
  // runs (abcd, 1234, qwerty) and common stems for little.
  function bits(value) {
    var pool = 0;
    if (/[a-z]/.test(value)) { pool += 26; }
    if (/[A-Z]/.test(value)) { pool += 26; }
    if (/[0-9]/.test(value)) { pool += 10; }
    if (/[^a-zA-Z0-9]/.test(value)) { pool += 33; }
    var lower = value.toLowerCase();
    var stems = without(lower, STEMS);
    var length = stems.found ? 2 : 0;
    lower = stems.rest;
    for (var i = 0; i < lower.length; i += 1) {
      var pair = lower.charAt(i - 1) + lower.charAt(i);
      var reversed = lower.charAt(i) + lower.charAt(i - 1);
      var run = i > 0 && (pair.charAt(0) === pair.charAt(1) ||
        RUNS.indexOf(pair) !== -1 || RUNS.indexOf(reversed) !== -1);
      length += run ? 0.25 : 1;
    }
    return length * Math.log(Math.max(pool, 2)) / Math.LN2;
  }

  function judge(input) {
    var value = input.value;
    var min = Number(input.getAttribute("data-min-length")) || 10;
    var max = Number(input.getAttribute("data-max-length")) || 256;
    var length = Array.from ? Array.from(value).length : value.length;
    if (length < min) {
      return [0, "too_short"];
    }
    if (length > max) {
      return [0, "too_long"];
    }
    var context = without(squash(value), contextWords(input));
    if (context.found && (context.rest.length < 4 || /^[0-9]*$/.test(context.rest))) {
      return [0, "contains_name"];
    }
    var guess = bits(value);
    var level = guess < 30 ? 1 : guess < 45 ? 2 : guess < 65 ? 3 : 4;
    return LEVELS[level];
  }

  Array.prototype.forEach.call(inputs, function (input, index) {
    var box = document.createElement("p");
    box.className = "strength";
    box.hidden = true;
    box.title = texts.note || "";
    var meter = document.createElement("meter");
    meter.min = 0;
    meter.max = 4;
    meter.low = 2;
    meter.high = 3;
    meter.optimum = 4;
    meter.setAttribute("aria-hidden", "true");
    var words = document.createElement("span");
    words.className = "strength-text";
    words.id = (input.id || "password") + "-strength-" + index;
    words.setAttribute("aria-live", "polite");
    box.appendChild(meter);
    box.appendChild(words);
    input.insertAdjacentElement("afterend", box);
    var described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", (described ? described + " " : "") + words.id);

    function update() {
      if (!input.value) {
        box.hidden = true;
        return;
      }
      var verdict = judge(input);
      meter.value = verdict[0];
      box.setAttribute("data-strength", verdict[1]);
      words.textContent = (texts.label || "") + ": " + (texts[verdict[1]] || "");
      box.hidden = false;
    }
    input.addEventListener("input", update);
    if (input.form) {
      // The login and e-mail of the same form change what the password is made of.
      input.form.addEventListener("input", function (event) {
        if (event.target !== input && input.value) {
          update();
        }
      });
    }
    update();
  });
})();
