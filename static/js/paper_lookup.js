/*
 * A paper's details from its link, in the drafting forms (a summary's "Paper link", the paper
 * admin's URL, arXiv id and DOI fields):
 * - when an arXiv id or link, a DOI, an OpenReview or an ACL Anthology link is pasted or typed
 *   into a field with `data-paper-lookup` (the endpoint's URL), the endpoint
 *   (newsletter/paper_lookup/views.py) is asked for the paper's details;
 * - the fields named in `data-paper-lookup-targets` ({detail: field name}, in the same form
 *   prefix) are filled in when empty, or when they still hold what an earlier lookup put there:
 *   what the writer typed is never replaced;
 * - a line under the field says where the details came from, "Covered before in issue #N" for a
 *   paper the index already has, or why nothing could be fetched (the fields stay free to type).
 * Events are delegated from the document, so summaries added with "Add another" work too.
 */
"use strict";

(function () {
    const SELECTOR = "input[data-paper-lookup]";
    const STATUS_CLASS = "paper-lookup-status";
    const DEBOUNCE_MS = 400;
    // Worth asking about; the server decides what it really is.
    const LOOKS_LIKE = new RegExp(
        [
            "arxiv",
            "doi",
            "openreview\\.net",
            "aclanthology\\.org",
            "aclweb\\.org",
            "^\\s*10\\.\\d{4,9}/\\S+\\s*$",
            "^\\s*\\d{4}\\.\\d{4,5}(v\\d+)?\\s*$",
            "^\\s*[a-z-]+(\\.[A-Z]{2})?/\\d{7}(v\\d+)?\\s*$",
        ].join("|"),
        "i"
    );
    const timers = new WeakMap();
    const asked = new WeakMap();

    function prefixOf(input) {
        // Django's form prefixes end with "-" ("summaries-0-"); our field names have none.
        const cut = input.name.lastIndexOf("-");
        return cut === -1 ? "" : input.name.slice(0, cut + 1);
    }

    function ownName(input) {
        return input.name.slice(prefixOf(input).length);
    }

    function targetsOf(input) {
        try {
            return JSON.parse(input.dataset.paperLookupTargets || "{}");
        } catch (error) {
            return {};
        }
    }

    function fieldNamed(input, name) {
        if (!input.form) {
            return null;
        }
        const fullName = prefixOf(input) + name;
        return Array.from(input.form.elements).find(function (element) {
            return element.name === fullName;
        }) || null;
    }

    function statusOf(input) {
        const id = input.id + "_lookup_status";
        let status = document.getElementById(id);
        if (!status) {
            status = document.createElement("div");
            status.className = "help " + STATUS_CLASS;
            status.setAttribute("role", "status");
            status.setAttribute("aria-live", "polite");
            status.id = id;
            // Under the field, where the admin puts its help text.
            const box = input.closest(".flex-container") || input;
            box.insertAdjacentElement("afterend", status);
            const described = input.getAttribute("aria-describedby");
            input.setAttribute("aria-describedby", (described ? described + " " : "") + status.id);
        }
        return status;
    }

    function show(input, text, kind) {
        const status = statusOf(input);
        status.textContent = text;
        status.dataset.state = kind;
    }

    function setValue(field, value) {
        field.value = value;
        field.dataset.paperLookupFilled = field.value;
        field.dispatchEvent(new Event("input", {bubbles: true}));
        field.dispatchEvent(new Event("change", {bubbles: true}));
    }

    function isOurs(field) {
        return field.dataset.paperLookupFilled !== undefined && field.dataset.paperLookupFilled === field.value;
    }

    // Each target field that holds what the last lookup put there (and nothing the writer typed).
    function forEachTarget(input, callback) {
        const own = ownName(input);
        Object.entries(targetsOf(input)).forEach(function ([detail, name]) {
            const field = name === own ? null : fieldNamed(input, name);
            if (field) {
                callback(detail, field);
            }
        });
    }

    function clearEarlierFill(input) {
        forEachTarget(input, function (detail, field) {
            if (isOurs(field) && field.value !== "") {
                setValue(field, "");
            }
        });
    }

    function fill(input, paper) {
        forEachTarget(input, function (detail, field) {
            const value = paper[detail];
            if (value === null || value === undefined || value === "") {
                return;
            }
            if (field.value.trim() === "" || isOurs(field)) {
                setValue(field, String(value));
            }
        });
    }

    function answerOf(response) {
        return response.json().catch(function () {
            return {ok: false, error: "The lookup gave no readable answer. Enter the paper's details by hand."};
        });
    }

    function lookUp(input) {
        const value = input.value.trim();
        if (!value || !LOOKS_LIKE.test(value) || asked.get(input) === value) {
            return;
        }
        asked.set(input, value);
        clearEarlierFill(input);
        show(input, "Looking the paper up…", "busy");
        const url = input.dataset.paperLookup + "?q=" + encodeURIComponent(value);
        fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
            .then(answerOf)
            .then(function (answer) {
                if (input.value.trim() !== value) {
                    return; // the link changed while we waited
                }
                if (!answer.ok) {
                    show(input, answer.error || "The paper could not be looked up.", "failed");
                    return;
                }
                fill(input, answer.paper || {});
                show(input, answer.message || "Details filled in.", answer.stored ? "stored" : "filled");
            })
            .catch(function () {
                if (input.value.trim() === value) {
                    asked.delete(input);
                    show(input, "The lookup could not be reached. Enter the paper's details by hand.", "failed");
                }
            });
    }

    function later(input) {
        clearTimeout(timers.get(input));
        timers.set(input, setTimeout(function () {
            lookUp(input);
        }, DEBOUNCE_MS));
    }

    function lookupField(event) {
        // Our own fills dispatch events too (for other scripts); they start no lookup.
        if (!event.isTrusted) {
            return null;
        }
        const target = event.target;
        return target && target.matches && target.matches(SELECTOR) ? target : null;
    }

    document.addEventListener("input", function (event) {
        const input = lookupField(event);
        if (input) {
            later(input);
        }
    });
    document.addEventListener("change", function (event) {
        const input = lookupField(event);
        if (input) {
            clearTimeout(timers.get(input));
            lookUp(input);
        }
    });
})();
