// The chat page: streams answers from POST /question/stream (server-sent events read with fetch and a
// ReadableStream), shows sources as cards, keeps the conversation for follow-ups, sends +1/-1 feedback.
// Enter sends the question, Shift+Enter adds a line; focus returns to the question box after each answer.
// Everything that comes from the server is inserted with textContent, except the finished answer's
// answer_html, which the server rendered from Markdown and sanitised (rendering.py); it is parsed with
// DOMParser into the answer's element. Requests go through apiFetch (apikey.js), which adds the API key
// when the server asks for one.
(function () {
  "use strict";

  const form = document.getElementById("ask");
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  const messages = document.getElementById("messages");
  const conversationLabel = document.getElementById("conversation");
  const template = document.getElementById("answer-template");
  const welcomeState = document.getElementById("welcome").cloneNode(true);  // the empty state, shown again on "New conversation"
  let conversationId = null;
  let busy = false;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function scrollDown() {
    messages.scrollTop = messages.scrollHeight;
  }

  function setConversation(id) {
    conversationId = id;
    conversationLabel.textContent = id ? "conversation " + id.slice(0, 8) : "";
    conversationLabel.hidden = !id;
  }

  // The card's id is the one the answer's film links point at (rendering.card_anchor).
  function sourceCard(source, answerId) {
    const card = element("div", "source-card");
    if (answerId) card.id = "film-" + answerId + "-" + source.id;
    card.setAttribute("data-testid", "source-card");
    const title = element("div", "title", source.title);
    if (source.year) title.appendChild(element("span", "year", " (" + source.year + ")"));
    card.appendChild(title);
    if (source.genres && source.genres.length) card.appendChild(element("div", "genres", source.genres.join(" · ")));
    const rating = source.vote_count
      ? "★ " + Number(source.vote_average).toFixed(1) + "/10 · " + Number(source.vote_count).toLocaleString() + " votes"
      : "no rating yet";
    card.appendChild(element("div", "rating", rating));
    if (source.overview) {
      card.title = source.overview;
    }
    return card;
  }

  // The films the answer names come first, as cards; the other retrieved films fold away.
  function showSources(view, sources, cited) {
    const answerId = view.node.getAttribute("data-answer-id");
    sources = sources || [];
    view.sources.replaceChildren();
    let main = sources.slice(0, 4);
    let rest = sources.slice(4);
    if (cited && cited.length) {
      const byId = new Map(sources.map(function (s) { return [s.id, s]; }));
      main = cited.filter(function (id) { return byId.has(id); }).map(function (id) { return byId.get(id); });
      rest = sources.filter(function (s) { return cited.indexOf(s.id) < 0; });
    }
    main.forEach(function (s) { view.sources.appendChild(sourceCard(s, answerId)); });
    if (rest.length) {
      const more = element("details", "more");
      more.appendChild(element("summary", null, (main.length ? "Other retrieved films" : "Retrieved films") + " (" + rest.length + ")"));
      const list = element("div", "sources more-list");
      rest.forEach(function (s) { list.appendChild(sourceCard(s, answerId)); });
      more.appendChild(list);
      view.sources.appendChild(more);
    }
  }

  function newAnswerView() {
    const node = template.content.firstElementChild.cloneNode(true);
    messages.appendChild(node);
    return {
      node: node,
      text: node.querySelector(".text"),
      notice: node.querySelector(".notice"),
      sources: node.querySelector(".sources"),
      meta: node.querySelector(".meta"),
      feedback: node.querySelector(".feedback"),
      status: node.querySelector(".feedback-status"),
    };
  }

  function enableFeedback(view, answer) {
    view.feedback.hidden = false;
    view.feedback.querySelectorAll("button.vote").forEach(function (button) {
      button.addEventListener("click", async function () {
        const value = Number(button.getAttribute("data-value"));
        view.feedback.querySelectorAll("button.vote").forEach(function (b) { b.disabled = true; });
        view.status.textContent = "sending...";
        try {
          const response = await apiFetch("/feedback", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ conversation_id: answer.conversation_id, answer_id: answer.answer_id, feedback: value }),
          });
          const data = await response.json().catch(function () { return {}; });
          if (!response.ok) throw new Error(data.error || response.statusText);
          view.status.textContent = "Thanks, feedback " + (value > 0 ? "+1" : "-1") + " recorded.";
          button.classList.add("chosen");
        } catch (error) {
          view.status.textContent = "Could not send feedback: " + error.message;
          view.feedback.querySelectorAll("button.vote").forEach(function (b) { b.disabled = false; });
        }
      });
    });
  }

  // The final answer (the grounding check may have edited it): lists, emphasis and links to the cards.
  function showAnswer(view, answer) {
    const rendered = new DOMParser().parseFromString(answer.answer_html, "text/html");
    view.text.replaceChildren(...rendered.body.childNodes);
    view.text.classList.add("rich");
  }

  function finish(view, answer) {
    view.node.setAttribute("data-answer-id", answer.answer_id);
    showAnswer(view, answer);
    const grounding = answer.grounding || {};
    if (grounding.repaired) {
      view.notice.hidden = false;
      view.notice.textContent = "Edited after generation: removed mentions of films that are not in the catalogue records ("
        + (grounding.unknown_titles || []).join(", ") + ").";
    } else if (grounding.grounded === false) {
      view.notice.hidden = false;
      view.notice.textContent = "Careful: this answer names films that are not in the records it was given ("
        + (grounding.unknown_titles || []).join(", ") + ").";
    }
    showSources(view, answer.sources, grounding.mentioned_ids);
    const timing = answer.timing || {};
    const parts = [answer.model];
    if (timing.time_to_first_token !== undefined) parts.push("first token " + timing.time_to_first_token.toFixed(2) + " s");
    if (timing.response_time !== undefined) parts.push("total " + timing.response_time.toFixed(2) + " s");
    view.meta.textContent = parts.join(" · ");
    setConversation(answer.conversation_id);
    view.node.classList.add("done");
    enableFeedback(view, answer);
  }

  function parseEvent(raw) {
    let name = "message";
    const data = [];
    raw.split("\n").forEach(function (line) {
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    });
    return { name: name, data: data.length ? JSON.parse(data.join("\n")) : null };
  }

  async function ask(question) {
    busy = true;
    send.disabled = true;
    const welcome = document.getElementById("welcome");
    if (welcome) welcome.remove();
    messages.appendChild(element("article", "message user", question));
    const view = newAnswerView();
    view.node.classList.add("streaming");
    view.text.textContent = "";
    view.meta.textContent = "thinking...";
    scrollDown();
    const body = { question: question };
    if (conversationId) body.conversation_id = conversationId;
    try {
      const response = await apiFetch("/question/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
        body: JSON.stringify(body),
      });
      if (!response.ok) {
        const data = await response.json().catch(function () { return {}; });
        throw new Error(data.error || ("HTTP " + response.status));
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      let finished = false;
      while (!finished) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = parseEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (event.name === "start") {
            view.node.setAttribute("data-answer-id", event.data.answer_id);
            showSources(view, event.data.sources);
            setConversation(event.data.conversation_id);
          } else if (event.name === "token") {
            view.text.textContent += event.data.text;
            view.meta.textContent = "writing...";
          } else if (event.name === "done") {
            finish(view, event.data);
            finished = true;
          } else if (event.name === "error") {
            throw new Error(event.data.error);
          }
          scrollDown();
        }
      }
      if (!finished) throw new Error("the answer stream ended early");
    } catch (error) {
      view.node.classList.add("failed");
      view.meta.textContent = "Error: " + error.message;
    } finally {
      view.node.classList.remove("streaming");
      busy = false;
      send.disabled = false;
      input.focus();
      scrollDown();
    }
  }

  function submit() {
    const question = input.value.trim();
    if (!question || busy) return;
    input.value = "";
    ask(question);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });

  // Enter sends, Shift+Enter is a new line (and Enter while an input method composes a word is the IME's).
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });

  function wireExamples(root) {
    root.querySelectorAll("button.example").forEach(function (button) {
      button.addEventListener("click", function () {
        if (!busy) ask(button.textContent.trim());
      });
    });
  }

  document.getElementById("new-conversation").addEventListener("click", function () {
    setConversation(null);
    const welcome = welcomeState.cloneNode(true);
    wireExamples(welcome);
    messages.replaceChildren(welcome);
    input.focus();
  });

  wireExamples(document);
})();
