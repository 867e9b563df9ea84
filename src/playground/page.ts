// The playground's HTML. Static markup only: every dynamic part is filled in by ./browser/main.ts through
// DOM text nodes. The only value put into it is the page's own URL path (attribute-escaped).

const escapeAttribute = (text: string) =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const SKILLS = ['search_documents', 'todo_add', 'todo_list', 'todo_complete'];

export function playgroundPage(pagePath: string): string {
  const base = escapeAttribute(pagePath);
  const skills = SKILLS.map((name) => `<label class="check"><input type="checkbox" name="skill" value="${name}"> ${name}</label>`).join('\n          ');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Playground</title>
  <link rel="stylesheet" href="${base}/playground.css">
  <script type="module" src="${base}/main.js"></script>
</head>
<body>
  <header>
    <h1>Playground</h1>
    <p id="status" class="meta" aria-live="polite">Checking the app…</p>
    <button type="button" id="key-button" class="secondary" hidden>Function key…</button>
  </header>
  <nav role="tablist" aria-label="Features">
    <button type="button" role="tab" id="tab-ask" aria-controls="panel-ask" aria-selected="true">Ask</button>
    <button type="button" role="tab" id="tab-chats" aria-controls="panel-chats" aria-selected="false" tabindex="-1">Chats</button>
    <button type="button" role="tab" id="tab-rag" aria-controls="panel-rag" aria-selected="false" tabindex="-1">Chat with your data</button>
    <button type="button" role="tab" id="tab-docs" aria-controls="panel-docs" aria-selected="false" tabindex="-1">Documents</button>
  </nav>
  <main>
    <section id="panel-ask" role="tabpanel" aria-labelledby="tab-ask">
      <form id="ask-form">
        <label for="ask-prompt">Prompt <span class="hint">(Ctrl+Enter sends)</span></label>
        <textarea id="ask-prompt" rows="3" required maxlength="32000">Tell me a short fact about Azure Functions.</textarea>
        <div class="row"><button type="submit">Ask</button><button type="button" class="secondary" data-stop>Stop</button></div>
      </form>
      <div class="error" role="alert" hidden></div>
      <div id="ask-answer" class="answer" aria-live="polite"></div>
      <p id="ask-meta" class="meta"></p>
    </section>

    <section id="panel-chats" role="tabpanel" aria-labelledby="tab-chats" hidden>
      <form id="chat-setup">
        <label for="chat-id">Chat id</label>
        <input id="chat-id" required pattern="[A-Za-z0-9_\\-.:@]{1,128}" autocomplete="off">
        <label for="chat-instructions">Instructions <span class="hint">(empty: no system message)</span></label>
        <textarea id="chat-instructions" rows="2">You are a helpful assistant.</textarea>
        <fieldset>
          <legend>Skills (run in the app)</legend>
          ${skills}
        </fieldset>
        <label for="chat-tools">Client tools <span class="hint">(JSON array, OpenAI function-tool shape; this page answers their calls)</span></label>
        <textarea id="chat-tools" rows="3" spellcheck="false" placeholder="[]"></textarea>
        <div class="row">
          <button type="submit">Create / reset</button>
          <button type="button" class="secondary" id="chat-sample-tool">Add sample tool</button>
          <button type="button" class="secondary" id="chat-refresh">State</button>
          <button type="button" class="danger" id="chat-delete">Delete</button>
        </div>
      </form>
      <div class="error" role="alert" hidden></div>
      <ol id="chat-log" class="transcript" aria-live="polite"></ol>
      <form id="chat-send">
        <label for="chat-message">Message <span class="hint">(Ctrl+Enter sends)</span></label>
        <textarea id="chat-message" rows="2" required></textarea>
        <div class="row"><button type="submit">Send</button><button type="button" class="secondary" data-stop>Stop</button></div>
      </form>
      <details id="chat-state">
        <summary>Chat state</summary>
        <pre id="chat-state-json">Not loaded yet.</pre>
      </details>
    </section>

    <section id="panel-rag" role="tabpanel" aria-labelledby="tab-rag" hidden>
      <ol id="rag-log" class="transcript" aria-live="polite"></ol>
      <form id="rag-form">
        <label for="rag-question">Question <span class="hint">(Ctrl+Enter sends)</span></label>
        <textarea id="rag-question" rows="2" required>Does my plan cover annual eye exams?</textarea>
        <label for="rag-image">Image <span class="hint">(optional: png, jpeg, gif or webp)</span></label>
        <input type="file" id="rag-image" accept="image/png,image/jpeg,image/gif,image/webp">
        <img id="rag-image-preview" alt="Attached image" hidden>
        <details>
          <summary>Options</summary>
          <label for="rag-mode">Retrieval</label>
          <select id="rag-mode">
            <option value="">default</option><option value="hybrid">hybrid</option><option value="text">text</option>
            <option value="vectors">vectors</option><option value="none">none (plain chat)</option>
          </select>
          <label for="rag-top">Sources to retrieve</label>
          <input type="number" id="rag-top" min="1" max="50" value="3">
          <label class="check"><input type="checkbox" id="rag-followups" checked> Suggest follow-up questions</label>
        </details>
        <div class="row">
          <button type="submit">Send</button>
          <button type="button" class="secondary" data-stop>Stop</button>
          <button type="button" class="secondary" id="rag-clear">New conversation</button>
        </div>
      </form>
      <div class="error" role="alert" hidden></div>
    </section>

    <section id="panel-docs" role="tabpanel" aria-labelledby="tab-docs" hidden>
      <form id="doc-upload">
        <label for="doc-files">Files <span class="hint">(.pdf, .md, .txt, .html)</span></label>
        <input type="file" id="doc-files" multiple required accept=".pdf,.md,.markdown,.txt,.html,.htm,application/pdf,text/markdown,text/plain,text/html">
        <div class="row"><button type="submit">Upload</button><button type="button" class="secondary" id="doc-refresh">Refresh list</button></div>
      </form>
      <ul id="doc-progress" class="progress-list"></ul>
      <div class="error" role="alert" hidden></div>
      <div class="table-wrap">
        <table>
          <caption>Indexed documents</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Pages</th><th scope="col">Chunks</th><th scope="col">Size</th><th scope="col" class="wide">Indexed</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody id="doc-list"></tbody>
        </table>
      </div>
    </section>
  </main>

  <dialog id="key-dialog" aria-labelledby="key-title">
    <form id="key-form" method="dialog">
      <h2 id="key-title">Function key</h2>
      <p id="key-reason">This app runs in Azure: its routes need a function key.</p>
      <p class="hint">Find it with <code>az functionapp keys list -g &lt;group&gt; -n &lt;app&gt;</code>. It is kept in this tab only (sessionStorage) and sent as <code>x-functions-key</code>.</p>
      <label for="key-input">Key</label>
      <input id="key-input" type="password" required autocomplete="off">
      <div class="row"><button type="submit">Use key</button></div>
    </form>
  </dialog>
</body>
</html>
`;
}
