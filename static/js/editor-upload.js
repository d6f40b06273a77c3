/*
 * Images dropped or pasted into a Markdown editor (django-markdownx uploads them to
 * /markdownx/upload/, newsletter/upload_views.py):
 * - a refused image shows the server's reason under the editor, instead of the "Invalid
 *   response" text markdownx would leave in the writer's Markdown;
 * - an inserted image has its placeholder alt text selected, ready to be typed over (the
 *   pre-publish checks refuse the placeholder).
 * markdownx's events do not bubble, so they are caught on their way down (capture).
 */
"use strict";

(function () {
    const MARKDOWNX_ERROR_TEXT = "Invalid response";
    const NOTE_CLASS = "markdownx-upload-error";

    function editorOf(event) {
        return event.target && event.target.querySelector ? event.target.querySelector(".markdownx-editor") : null;
    }

    function noteOf(container, create) {
        let note = container.querySelector("." + NOTE_CLASS);
        if (!note && create) {
            note = document.createElement("p");
            note.className = NOTE_CLASS + " errornote";
            note.setAttribute("role", "alert");
            container.appendChild(note);
        }
        return note;
    }

    document.addEventListener("markdownx.fileUploadError", function (event) {
        const editor = editorOf(event);
        if (!editor) {
            return;
        }
        const response = event.detail && event.detail[0];
        const message = response && response.error ? response.error : "The image could not be uploaded.";
        noteOf(event.target, true).textContent = message;
        // markdownx inserts its error text at the cursor right after this event: take it out.
        const at = editor.selectionStart;
        window.setTimeout(function () {
            if (editor.value.substring(at, at + MARKDOWNX_ERROR_TEXT.length) === MARKDOWNX_ERROR_TEXT) {
                editor.value = editor.value.slice(0, at) + editor.value.slice(at + MARKDOWNX_ERROR_TEXT.length);
                editor.setSelectionRange(at, at);
            }
        }, 0);
    }, true);

    document.addEventListener("markdownx.fileUploadEnd", function (event) {
        const editor = editorOf(event);
        const response = event.detail && event.detail[0];
        if (!editor || !response || !response.image_code) {
            return;
        }
        const note = noteOf(event.target, false);
        if (note) {
            note.remove();
        }
        const end = editor.selectionStart;
        const start = end - response.image_code.length;
        const placeholder = response.alt_placeholder || "";
        if (placeholder && start >= 0 && editor.value.substring(start, end) === response.image_code) {
            editor.focus();
            editor.setSelectionRange(start + 2, start + 2 + placeholder.length);
        }
    }, true);
})();
