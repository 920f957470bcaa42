// "Customize form appearance": drag-and-drop, moves in place and a live preview.
// Progressive enhancement only: without this file the dialog works with its Move buttons,
// each of which redraws the page. With it, every move happens in place and the rows are
// renumbered afterwards, so that the form posts exactly the fields a freshly drawn dialog
// would: tabs-N-… and tabs-N-fields-M-… numbered in their order on screen, positions from 1.
(function () {
  "use strict";
  var form = document.querySelector("form.layout-dialog");
  if (!form) {
    return;
  }
  var TAB_PREFIX = /^tabs-\d+-/;
  var ROW_PREFIX = /^tabs-\d+-fields-\d+-/;
  var TAB_ACTION = /^(tab-up|tab-down|add-section)-\d+$/;
  var ROW_ACTION = /^(field-up|field-down)-\d+-\d+$/;
  // The page's words, from the message catalog: {name}, {position}… are filled in here.
  var textsBlock = document.getElementById("layout-texts");
  var texts = textsBlock ? JSON.parse(textsBlock.textContent) : {};
  function say(key, values) {
    return (texts[key] || "").replace(/\{(\w+)\}/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }
  var dragging = null; // {kind: "tab" | "field", element}
  var marked = null; // the element that shows where a drop would go

  function toArray(list) {
    return Array.prototype.slice.call(list);
  }
  function tabs() {
    return toArray(form.querySelectorAll("fieldset[data-layout-tab]"));
  }
  function rowsOf(tab) {
    return toArray(tab.querySelectorAll("tr[data-layout-field]"));
  }
  function bodyOf(tab) {
    return tab.querySelector("table.layout-fields tbody");
  }
  function tabById(id) {
    return tabs().filter(function (tab) {
      return tab.getAttribute("data-layout-tab") === id;
    })[0];
  }
  function tabName(tab) {
    var input = tab.querySelector("input[name$='-label']");
    var label = input ? input.value.trim() : "";
    return label || tab.getAttribute("data-builtin-label") || tab.getAttribute("data-layout-tab");
  }
  function rowName(row) {
    return row.getAttribute("data-row-name") || row.getAttribute("data-layout-field");
  }

  // ------------------------------------------------------------------ renumbering

  function rename(element, pattern, prefix) {
    ["name", "id", "for"].forEach(function (attribute) {
      var value = element.getAttribute(attribute);
      if (value && pattern.test(value)) {
        element.setAttribute(attribute, value.replace(pattern, prefix));
      }
    });
  }

  function setButtons(buttons, first, last) {
    buttons.forEach(function (button) {
      var value = button.value;
      if (/^(tab|field)-up-/.test(value)) {
        button.disabled = first;
      } else if (/^(tab|field)-down-/.test(value)) {
        button.disabled = last;
      }
    });
  }

  function placeholder(body, rows) {
    var empty = toArray(body.children).filter(function (row) {
      return !row.hasAttribute("data-layout-field");
    });
    if (rows.length) {
      empty.forEach(function (row) {
        body.removeChild(row);
      });
    } else if (!empty.length) {
      var row = document.createElement("tr");
      var cell = document.createElement("td");
      cell.colSpan = 6;
      cell.className = "empty";
      cell.textContent = say("no_fields");
      row.appendChild(cell);
      body.appendChild(row);
    }
  }

  function renumber() {
    var all = tabs();
    all.forEach(function (tab, n) {
      var tabId = tab.getAttribute("data-layout-tab");
      var tabButtons = [];
      toArray(tab.querySelectorAll("[name], [id], [for]")).forEach(function (element) {
        if (element.closest("tr[data-layout-field]")) {
          return;
        }
        if (element.name === "action") {
          if (TAB_ACTION.test(element.value)) {
            element.value = element.value.replace(/\d+$/, String(n));
            tabButtons.push(element);
          }
          return;
        }
        rename(element, TAB_PREFIX, "tabs-" + n + "-");
      });
      setButtons(tabButtons, n === 0, n === all.length - 1);
      var position = tab.querySelector("input[name='tabs-" + n + "-position']");
      if (position) {
        position.value = String(n + 1);
      }
      var body = bodyOf(tab);
      if (!body) {
        return;
      }
      var rows = rowsOf(tab);
      rows.forEach(function (row, m) {
        var prefix = "tabs-" + n + "-fields-" + m + "-";
        var rowButtons = [];
        toArray(row.querySelectorAll("[name], [id], [for]")).forEach(function (element) {
          if (element.name === "action") {
            if (ROW_ACTION.test(element.value)) {
              element.value = element.value.replace(/-\d+-\d+$/, "-" + n + "-" + m);
              rowButtons.push(element);
            }
            return;
          }
          rename(element, ROW_PREFIX, prefix);
        });
        setButtons(rowButtons, m === 0, m === rows.length - 1);
        row.querySelector("input[name='" + prefix + "position']").value = String(m + 1);
        var select = row.querySelector("select[name='" + prefix + "tab']");
        if (select) {
          select.value = tabId;
        }
      });
      placeholder(body, rows);
    });
    updatePreview();
  }

  // ------------------------------------------------------------------ moving

  var status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  form.parentNode.insertBefore(status, form.nextSibling);

  function announce(text) {
    status.textContent = text;
  }

  // Insert `element` into `parent` before `before` (null: at the end), keeping the focus.
  function place(element, parent, before) {
    var focused = document.activeElement;
    var keep = focused && element.contains(focused) ? focused : null;
    parent.insertBefore(element, before);
    renumber();
    if (keep) {
      if (keep.disabled) {
        // Moved to the top or bottom: give the focus to the other move button.
        keep = toArray(element.querySelectorAll("button[name=action]")).filter(function (b) {
          return !b.disabled && ROW_ACTION.test(b.value) === ROW_ACTION.test(keep.value);
        })[0] || keep;
      }
      keep.focus();
    }
  }

  function announceTab(tab) {
    var all = tabs();
    announce(say("tab_moved", { name: tabName(tab), position: all.indexOf(tab) + 1, count: all.length }));
  }

  function announceRow(row) {
    var tab = row.closest("fieldset[data-layout-tab]");
    var rows = rowsOf(tab);
    announce(say("row_moved", {
      name: rowName(row),
      tab: tabName(tab),
      position: rows.indexOf(row) + 1,
      count: rows.length
    }));
  }

  function moveTab(tab, index) {
    var others = tabs().filter(function (other) {
      return other !== tab;
    });
    index = Math.max(0, Math.min(index, others.length));
    var anchor = others[index] || others[others.length - 1].nextSibling;
    place(tab, tab.parentNode, anchor);
    announceTab(tab);
  }

  function moveRow(row, tab, index) {
    var body = bodyOf(tab);
    var others = rowsOf(tab).filter(function (other) {
      return other !== row;
    });
    index = Math.max(0, Math.min(index, others.length));
    place(row, body, others[index] || null);
    announceRow(row);
  }

  // Move up / Move down: in place, no round trip. Add a section still asks the server.
  form.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[name=action]");
    if (!button || button.disabled) {
      return;
    }
    var match = /^(tab|field)-(up|down)-/.exec(button.value);
    if (!match) {
      return;
    }
    event.preventDefault();
    var step = match[2] === "up" ? -1 : 1;
    if (match[1] === "tab") {
      var tab = button.closest("fieldset[data-layout-tab]");
      moveTab(tab, tabs().indexOf(tab) + step);
    } else {
      var row = button.closest("tr[data-layout-field]");
      var owner = row.closest("fieldset[data-layout-tab]");
      moveRow(row, owner, rowsOf(owner).indexOf(row) + step);
    }
  });

  form.addEventListener("change", function (event) {
    var target = event.target;
    var row = target.closest("tr[data-layout-field]");
    // "On tab": the row goes to the end of that tab, as the server would put it.
    if (row && target.tagName === "SELECT" && /-tab$/.test(target.name)) {
      var destination = tabById(target.value);
      if (destination && bodyOf(destination)) {
        moveRow(row, destination, rowsOf(destination).length);
      }
      return;
    }
    // A position typed by hand: the row goes there (a number that is not one stays for
    // the server to refuse with its message).
    if (target.classList.contains("position") && /^\s*\d{1,3}\s*$/.test(target.value)) {
      var index = parseInt(target.value, 10) - 1;
      if (row) {
        moveRow(row, row.closest("fieldset[data-layout-tab]"), index);
      } else {
        var tab = target.closest("fieldset[data-layout-tab]");
        moveTab(tab, index);
      }
      return;
    }
    updatePreview();
  });

  // ------------------------------------------------------------------ drag and drop

  function handle(title) {
    var grip = document.createElement("span");
    grip.className = "drag-handle";
    grip.draggable = true;
    grip.title = title;
    // The Move buttons are the keyboard's way to do the same.
    grip.setAttribute("aria-hidden", "true");
    grip.textContent = "⠿";
    return grip;
  }

  tabs().forEach(function (tab) {
    var row = tab.querySelector(".layout-row");
    row.insertBefore(handle(say("drag_tab")), row.firstChild);
    rowsOf(tab).forEach(addRowHandle);
  });

  function addRowHandle(row) {
    var cell = row.querySelector("td");
    cell.insertBefore(handle(say("drag_field")), cell.firstChild);
  }

  function unmark() {
    if (marked) {
      marked.classList.remove("drop-before", "drop-after", "drop-into");
      marked = null;
    }
  }

  function mark(element, name) {
    if (marked !== element) {
      unmark();
    }
    element.classList.remove("drop-before", "drop-after", "drop-into");
    element.classList.add(name);
    marked = element;
  }

  // Where a drop at this event would go: {parent, before, mark, name} or null.
  function dropSpot(event) {
    if (!dragging || !event.target.closest) {
      return null;
    }
    var tab = event.target.closest("fieldset[data-layout-tab]");
    if (!tab) {
      return null;
    }
    if (dragging.kind === "tab") {
      if (tab === dragging.element) {
        return null;
      }
      var box = tab.getBoundingClientRect();
      var above = event.clientY < box.top + box.height / 2;
      return { kind: "tab", element: tab, above: above, name: above ? "drop-before" : "drop-after" };
    }
    var row = event.target.closest("tr[data-layout-field]");
    if (row) {
      if (row === dragging.element) {
        return null;
      }
      var rect = row.getBoundingClientRect();
      var before = event.clientY < rect.top + rect.height / 2;
      return { kind: "row", element: row, above: before, name: before ? "drop-before" : "drop-after" };
    }
    var body = bodyOf(tab);
    if (!body) {
      return null; // a tab with content of its own takes no fields
    }
    return { kind: "body", element: body, tab: tab, name: "drop-into" };
  }

  form.addEventListener("dragstart", function (event) {
    var grip = event.target.closest && event.target.closest(".drag-handle");
    if (!grip) {
      return;
    }
    var row = grip.closest("tr[data-layout-field]");
    var element = row || grip.closest("fieldset[data-layout-tab]");
    dragging = { kind: row ? "field" : "tab", element: element };
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", row ? rowName(row) : tabName(element));
    if (event.dataTransfer.setDragImage) {
      event.dataTransfer.setDragImage(element, 16, 16);
    }
    element.classList.add("is-dragging");
  });

  form.addEventListener("dragover", function (event) {
    var spot = dropSpot(event);
    if (!spot) {
      unmark();
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    mark(spot.element, spot.name);
  });

  form.addEventListener("drop", function (event) {
    var spot = dropSpot(event);
    unmark();
    if (!spot) {
      return;
    }
    event.preventDefault();
    var element = dragging.element;
    if (spot.kind === "tab") {
      var anchor = spot.above ? spot.element : spot.element.nextSibling;
      place(element, spot.element.parentNode, anchor);
      announceTab(element);
    } else if (spot.kind === "row") {
      place(element, spot.element.parentNode, spot.above ? spot.element : spot.element.nextSibling);
      announceRow(element);
    } else {
      place(element, spot.element, null);
      announceRow(element);
    }
  });

  form.addEventListener("dragend", function () {
    unmark();
    if (dragging) {
      dragging.element.classList.remove("is-dragging");
      dragging = null;
    }
  });

  // ------------------------------------------------------------------ the preview

  var preview = document.createElement("section");
  preview.className = "panel layout-preview";
  preview.setAttribute("aria-labelledby", "layout-preview-title");
  var heading = document.createElement("h2");
  heading.id = "layout-preview-title";
  heading.textContent = say("preview");
  var note = document.createElement("p");
  note.className = "muted";
  note.textContent = say("preview_note");
  var strip = document.createElement("ol");
  strip.className = "preview-tabs";
  preview.appendChild(heading);
  preview.appendChild(note);
  preview.appendChild(strip);
  form.parentNode.insertBefore(preview, form);

  function updatePreview() {
    while (strip.firstChild) {
      strip.removeChild(strip.firstChild);
    }
    tabs().forEach(function (tab) {
      var item = document.createElement("li");
      item.setAttribute("data-preview-tab", tab.getAttribute("data-layout-tab"));
      item.textContent = tabName(tab);
      var shown = tab.querySelector(".layout-row input[type=checkbox]");
      if (shown && !shown.checked) {
        item.className = "preview-hidden";
        var words = document.createElement("span");
        words.className = "visually-hidden";
        words.textContent = say("hidden");
        item.appendChild(words);
      }
      strip.appendChild(item);
    });
  }

  // Renaming a tab: the preview, the "On tab" choices and the buttons' names follow.
  form.addEventListener("input", function (event) {
    var target = event.target;
    if (!/^tabs-\d+-label$/.test(target.name || "")) {
      return;
    }
    var tab = target.closest("fieldset[data-layout-tab]");
    var id = tab.getAttribute("data-layout-tab");
    var name = tabName(tab);
    toArray(form.querySelectorAll("select[name$='-tab'] option")).forEach(function (option) {
      if (option.value === id) {
        option.textContent = name;
      }
    });
    toArray(tab.querySelectorAll(".move-buttons .visually-hidden")).forEach(function (words) {
      if (!words.closest("tr")) {
        words.textContent = " " + say("the_tab", { name: name });
      }
    });
    var caption = tab.querySelector("table.layout-fields caption");
    if (caption) {
      caption.textContent = say("fields_of_tab", { name: name });
    }
    var add = tab.querySelector("button[value^='add-section-']");
    if (add) {
      add.textContent = say("add_section", { name: name });
    }
    updatePreview();
  });

  updatePreview();
})();
