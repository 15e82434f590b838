// The shop's own page script. Tracking is declarative where it can be (data-tally-impression,
// data-tally-event, data-tally-prop-*, forms) and explicit where the site knows more than the
// markup: the purchase, the poll answer, the login. The site never waits for Tally: the snippet's
// stub queues calls until the SDK has loaded.
(function () {
  "use strict";
  var prices = { kettle: 49, mug: 12, tea: 9 };
  var names = {
    kettle: "Copper kettle",
    mug: "Stoneware mug",
    tea: "Sencha, 100 g",
  };

  function cart() {
    try {
      return JSON.parse(localStorage.getItem("demo-cart") || "[]");
    } catch (e) {
      return [];
    }
  }
  function saveCart(items) {
    localStorage.setItem("demo-cart", JSON.stringify(items));
    var n = document.getElementById("cart-count");
    if (n) n.textContent = String(items.length);
  }

  // Resolves with the tracker once the SDK has loaded (init() without options returns it).
  function tallyReady() {
    return new Promise(function (resolve) {
      function done() {
        resolve(window.tally.init());
      }
      if (window.tally && window.tally._loaded) return done();
      var s = document.querySelector('script[src="/sdk/tally.js"]');
      s.addEventListener("load", done);
    });
  }

  function setupHeader() {
    saveCart(cart());
    var who = document.getElementById("who");
    var user = localStorage.getItem("demo-user");
    if (who) who.textContent = user ? "logged in as " + user : "not logged in";
  }

  function setupCartButtons() {
    document.addEventListener("click", function (ev) {
      var b = ev.target.closest && ev.target.closest("[data-add-to-cart]");
      if (!b) return;
      var items = cart();
      items.push(b.getAttribute("data-add-to-cart"));
      saveCart(items);
      b.textContent = "Added";
    });
  }

  // Lead form: a `source.submitted` event with where the form sits (never the address itself).
  // Tracked here rather than by the SDK's form auto-tracking (switched off in the snippet's
  // data-auto-track), so a submission is one event whether it came by click or by Enter.
  function setupNewsletter() {
    var form = document.getElementById("newsletter");
    if (!form) return;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      window.tally.track("newsletter.submitted", {
        source: "home",
        form_id: form.id,
      });
      form.hidden = true;
      document.getElementById("newsletter-thanks").hidden = false;
    });
  }

  // The poll is asked only of visitors who have not answered it yet. Whether they have is the
  // timeline API's answer (GET /v1/users/{id}/summary), asked through the demo server, which
  // holds the secret read key: a read key never belongs in a page.
  function setupPoll() {
    var poll = document.getElementById("poll");
    if (!poll) return;
    var question = poll.getAttribute("data-question");
    tallyReady()
      .then(function (t) {
        var ids = t.ids();
        var q = new URLSearchParams({
          question: question,
          anonymous_id: ids.anonymousId,
        });
        if (ids.userId) q.set("user_id", ids.userId);
        return fetch("/api/poll-answered?" + q).then(function (r) {
          return r.json();
        });
      })
      .then(function (answer) {
        if (answer.answered) {
          document.body.setAttribute("data-poll", "answered");
          return;
        }
        poll.hidden = false;
        document.body.setAttribute("data-poll", "asked");
      })
      .catch(function () {
        document.body.setAttribute("data-poll", "unavailable");
      });
    poll.addEventListener("click", function (ev) {
      var b = ev.target.closest("[data-answer]");
      if (!b) return;
      window.tally.track("poll_response", {
        question: question,
        question_text: document.getElementById("poll-text").textContent,
        answer: b.getAttribute("data-answer"),
      });
      window.tally.flush();
      poll.hidden = true;
      document.getElementById("poll-thanks").hidden = false;
      document.body.setAttribute("data-poll", "thanked");
    });
  }

  function setupCheckout() {
    var list = document.getElementById("cart-items");
    if (!list) return;
    var items = cart();
    var total = 0;
    items.forEach(function (id) {
      var li = document.createElement("li");
      li.textContent = names[id] + " — €" + prices[id];
      list.appendChild(li);
      total += prices[id];
    });
    document.getElementById("cart-total").textContent = "€" + total;
    var button = document.getElementById("place-order");
    button.disabled = items.length === 0;
    button.addEventListener("click", function () {
      var orderId = "ORD-" + Date.now().toString(36).toUpperCase();
      // The purchase conversion: what a marketing report sums.
      window.tally.track("conversion", {
        kind: "purchase",
        order_id: orderId,
        revenue: total,
        currency: "EUR",
        items: items.length,
      });
      saveCart([]);
      button.disabled = true;
      document.getElementById("order-id").textContent = orderId;
      document.getElementById("order-done").hidden = false;
    });
  }

  // Login: identify() ties this visitor's later events to the customer id; logout forgets it.
  function setupLogin() {
    var form = document.getElementById("login");
    if (!form) return;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var user = form.elements.user.value.trim();
      window.tally.identify(user, { plan: form.elements.plan.value });
      localStorage.setItem("demo-user", user);
      location.href = "/";
    });
    document.getElementById("logout").addEventListener("click", function () {
      window.tally.reset();
      localStorage.removeItem("demo-user");
      setupHeader();
    });
  }

  setupHeader();
  setupCartButtons();
  setupNewsletter();
  setupPoll();
  setupCheckout();
  setupLogin();
  tallyReady().then(function () {
    document.body.setAttribute("data-tally-ready", "true");
  });
})();
