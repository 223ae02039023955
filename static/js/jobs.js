// A job's progress bar (crm/jobs/templates/jobs/_progress.html): polls the job's JSON every second
// and updates rows done of total, the stage and the time left; when the job finishes, the page
// reloads (its buttons: download, retry) or, with data-job-on-done="result", opens the result.
(function () {
  "use strict";
  document.querySelectorAll("[data-job-url]").forEach((panel) => {
    if (panel.dataset.jobFinished) {
      return;
    }
    const field = (name) => panel.querySelector(`[data-job-field="${name}"]`);
    const show = (name, text) => {
      const element = field(name);
      if (!element) return;
      element.textContent = text;
      element.classList.toggle("d-none", !text);
    };
    let delay = 1000;
    const poll = () => {
      fetch(panel.dataset.jobUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
        .then((job) => {
          show("state_label", job.state_label);
          show("stage", job.stage);
          show("rows", job.total ? `${job.done} / ${job.total} 行` : "");
          show("time_left_text", job.time_left_text ? `剩余${job.time_left_text}` : "");
          show("error", job.error);
          show("message", job.message);
          const bar = field("percent");
          if (bar) {
            bar.value = job.percent;
            bar.textContent = `${job.percent}%`;
          }
          if (job.finished) {
            if (panel.dataset.jobOnDone === "result" && job.result_url && job.state === "done") {
              window.location.assign(job.result_url);
            } else {
              window.location.reload();
            }
            return;
          }
          delay = 1000;
          window.setTimeout(poll, delay);
        })
        .catch(() => {
          delay = Math.min(delay * 2, 15000); // the server is busy or away: ask less often
          window.setTimeout(poll, delay);
        });
    };
    window.setTimeout(poll, delay);
  });
})();
