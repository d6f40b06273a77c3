/*
 * Drafting an issue in the admin, without dependencies:
 * - summaries are reordered by dragging their handle or with their arrow buttons, and the
 *   position inputs are rewritten to follow the order on the page;
 * - each summary's heading shows its section and kind as they are chosen;
 * - summaries added with "Add another" get a working Markdown editor with live preview.
 */
"use strict";

(function () {
    const GROUP = "[data-sortable-summaries]";
    const ROW = ".summary-row:not(.empty-form)";

    function rowsOf(group) {
        return Array.from(group.querySelectorAll(ROW));
    }

    function input(row, name) {
        return row.querySelector('[name$="-' + name + '"]');
    }

    function isSaved(row) {
        const id = input(row, "id");
        return Boolean(id && id.value);
    }

    // A row counts once it is saved or being written; blank rows keep an empty position so the
    // server still sees them as untouched.
    function isInUse(row) {
        const headline = input(row, "headline");
        const position = input(row, "position");
        return isSaved(row) || Boolean(headline && headline.value.trim()) || Boolean(position && position.value);
    }

    function renumber(group) {
        let position = 0;
        rowsOf(group).forEach(function (row) {
            const field = input(row, "position");
            if (!field || !isInUse(row)) {
                return;
            }
            position += 1;
            field.value = String(position);
        });
    }

    // Django's inlines.js renames rows in page order when an added row is removed; the formset
    // needs saved rows first, so put them back in front.
    function reindex(group) {
        const prefix = JSON.parse(group.dataset.inlineFormset).options.prefix;
        const pattern = new RegExp("(" + prefix + "-(\\d+|__prefix__))", "g");
        const rows = rowsOf(group);
        const ordered = rows.filter(isSaved).concat(rows.filter(function (row) { return !isSaved(row); }));
        ordered.forEach(function (row, index) {
            const replacement = prefix + "-" + index;
            [row].concat(Array.from(row.querySelectorAll("*"))).forEach(function (element) {
                ["id", "name", "for", "aria-describedby", "aria-labelledby"].forEach(function (attribute) {
                    const value = element.getAttribute(attribute);
                    if (value) {
                        element.setAttribute(attribute, value.replace(pattern, replacement));
                    }
                });
            });
        });
    }

    function selectedText(select) {
        return select && select.value ? select.options[select.selectedIndex].text : "";
    }

    function updateSectionLabel(row) {
        const label = row.querySelector("[data-summary-section]");
        const section = selectedText(input(row, "section"));
        if (!label || !section) {
            return;
        }
        const kind = selectedText(input(row, "kind"));
        label.textContent = kind ? section + " · " + kind : section;
    }

    function move(row, direction) {
        const group = row.closest(GROUP);
        const rows = rowsOf(group);
        const index = rows.indexOf(row);
        if (direction === "up" && index > 0) {
            rows[index - 1].before(row);
        } else if (direction === "down" && index < rows.length - 1) {
            rows[index + 1].after(row);
        } else {
            return;
        }
        renumber(group);
    }

    function clearDropMarks(group) {
        group.querySelectorAll(".drop-before, .drop-after, .is-dragging").forEach(function (row) {
            row.classList.remove("drop-before", "drop-after", "is-dragging");
        });
    }

    function makeSortable(group) {
        let dragged = null;

        group.addEventListener("click", function (event) {
            const button = event.target.closest("[data-move]");
            if (button && button.closest(ROW)) {
                move(button.closest(ROW), button.dataset.move);
                button.focus();
            }
        });
        group.addEventListener("change", function (event) {
            const row = event.target.closest(ROW);
            if (row && /-(section|kind)$/.test(event.target.name)) {
                updateSectionLabel(row);
            }
        });
        group.addEventListener("dragstart", function (event) {
            const handle = event.target.closest && event.target.closest(".summary-handle");
            if (!handle || !handle.closest(ROW)) {
                return;
            }
            dragged = handle.closest(ROW);
            dragged.classList.add("is-dragging");
            event.dataTransfer.effectAllowed = "move";
            event.dataTransfer.setData("text/plain", "");
        });
        // Capture phase: the Markdown editors stop drag events that reach them.
        group.addEventListener("dragover", function (event) {
            const target = dragged && event.target.closest(ROW);
            if (!target || target === dragged) {
                return;
            }
            event.preventDefault();
            event.stopPropagation();
            const box = target.getBoundingClientRect();
            const before = event.clientY < box.top + box.height / 2;
            group.querySelectorAll(".drop-before, .drop-after").forEach(function (row) {
                row.classList.remove("drop-before", "drop-after");
            });
            target.classList.add(before ? "drop-before" : "drop-after");
        }, true);
        group.addEventListener("drop", function (event) {
            const target = dragged && event.target.closest(ROW);
            if (!dragged) {
                return;
            }
            event.preventDefault();
            event.stopPropagation();
            if (target && target !== dragged) {
                if (target.classList.contains("drop-before")) {
                    target.before(dragged);
                } else {
                    target.after(dragged);
                }
                renumber(group);
            }
            clearDropMarks(group);
            dragged = null;
        }, true);
        group.addEventListener("dragend", function () {
            clearDropMarks(group);
            dragged = null;
        });

        rowsOf(group).forEach(updateSectionLabel);
    }

    // markdownx.js sets up every editor on the page once, and keeps its constructor private.
    // The empty form that "Add another" copies must not be set up (its copies would share its
    // editor), and a copy is set up by loading markdownx.js again, which sets up every editor
    // not yet marked as set up.
    function markTemplateEditors() {
        document.querySelectorAll(".empty-form .markdownx-editor").forEach(function (editor) {
            editor.setAttribute("data-markdownx-init", "");
        });
    }

    function setUpMarkdownEditors(row) {
        const editors = row.querySelectorAll(".markdownx .markdownx-editor");
        const loaded = document.querySelector('script[src*="markdownx/js/markdownx"]');
        if (!editors.length || !loaded) {
            return;
        }
        markTemplateEditors();
        editors.forEach(function (editor) {
            editor.removeAttribute("data-markdownx-init");
        });
        row.querySelectorAll(".markdownx-preview").forEach(function (preview) {
            preview.replaceChildren();
        });
        const script = document.createElement("script");
        script.src = loaded.src;
        document.head.appendChild(script);
    }

    document.addEventListener("DOMContentLoaded", function () {
        markTemplateEditors();
        document.querySelectorAll(GROUP).forEach(makeSortable);
    });

    document.addEventListener("formset:added", function (event) {
        setUpMarkdownEditors(event.target);
    });

    document.addEventListener("formset:removed", function (event) {
        const group = document.getElementById(event.detail.formsetName + "-group");
        if (group && group.matches(GROUP)) {
            // inlines.js renames the remaining rows right after this event.
            setTimeout(function () { reindex(group); }, 0);
        }
    });
})();
