// 小微工作台: the few lines of script the pages need — signing in and out through the
// security API (it answers JSON), nothing else. No libraries, nothing fetched from elsewhere.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const login = document.getElementById("login-form");
  if (login) {
    login.addEventListener("submit", async (event) => {
      event.preventDefault();
      const failed = document.getElementById("login-failed");
      const reply = await fetch("/api/auth/session", {
        method: "POST", body: new URLSearchParams(new FormData(login)),
        credentials: "same-origin",
      });
      if (reply.ok) {
        window.location.assign(login.dataset.next || "/web/tasks");
      } else {
        failed.hidden = false;
      }
    });
  }
  const logout = document.getElementById("logout-form");
  if (logout) {
    logout.addEventListener("submit", async (event) => {
      event.preventDefault();
      await fetch("/api/auth/logout", {
        method: "POST", body: new URLSearchParams(new FormData(logout)),
        credentials: "same-origin",
      });
      window.location.assign("/web/login");
    });
  }
});
