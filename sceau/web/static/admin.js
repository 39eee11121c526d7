// Admin pages: follows an import's progress live. Without this script the job page still
// shows the state it was rendered with, and its "Refresh" link reloads it.
const body = document.body;
const $ = (id) => document.getElementById(id);
const POLL_MS = 1000;

function followImport() {
  const jobId = body.dataset.job;
  if (!jobId || body.dataset.finished === "yes") return;
  const words = JSON.parse($("admin-words").textContent);
  let failures = 0;

  function show(job) {
    $("job-phase").textContent = job.phase_label;
    $("job-batch").textContent = `${job.batch} ${words["job.of"]} ${job.batches}`;
    const bar = $("job-progress");
    bar.max = Math.max(job.total, 1);
    bar.value = job.done;
    $("job-count").textContent = `${job.done} / ${job.total}`;
    $("job-issued").textContent = job.issued;
    $("job-skipped").textContent = job.skipped;
    $("job-rejected").textContent = job.rejected;
    const error = $("job-error");
    error.textContent = job.error;
    error.hidden = !job.error;
  }

  async function poll() {
    let job = null;
    try {
      const response = await fetch(`/admin/imports/${encodeURIComponent(jobId)}.json`, {
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.ok) job = await response.json();
      else if (response.status === 401 || response.status === 403) {
        location.reload(); // signed out meanwhile: the server shows the sign-in page
        return;
      }
    } catch {
      job = null;
    }
    if (job === null) {
      failures += 1; // the server may be restarting: keep trying, more slowly
      setTimeout(poll, POLL_MS * Math.min(10, 1 + failures));
      return;
    }
    failures = 0;
    show(job);
    if (job.finished) {
      location.reload(); // the final state, rendered by the server, with its explanations
      return;
    }
    setTimeout(poll, POLL_MS);
  }

  poll();
}

const pages = { "admin-import-job": followImport };
(pages[body.dataset.page] || (() => {}))();
