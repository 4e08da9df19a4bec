// Server-side client of the notes API. API_INTERNAL_URL is read per request
// (never baked in at build time), e.g. http://127.0.0.1:8001 on a VPS slot.
const FETCH_TIMEOUT_MS = 5000;

export function apiBaseUrl() {
  return (process.env.API_INTERNAL_URL || 'http://127.0.0.1:8000').replace(/\/+$/, '');
}

/**
 * Fetch the notes list.
 * Returns {notes: [...], error: null} or {notes: [], error: "<why>"}; never throws,
 * so the page can still render and say what went wrong.
 */
export async function fetchNotes() {
  const url = `${apiBaseUrl()}/notes`;
  try {
    const response = await fetch(url, {
      cache: 'no-store',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!response.ok) {
      return { notes: [], error: `the notes API answered HTTP ${response.status}` };
    }
    const notes = await response.json();
    if (!Array.isArray(notes)) {
      return { notes: [], error: 'the notes API answered an unexpected body' };
    }
    return { notes, error: null };
  } catch (err) {
    if (err && err.name === 'SyntaxError') {
      return { notes: [], error: 'the notes API answered an unexpected body' };
    }
    const timedOut = err && err.name === 'TimeoutError';
    const cause = err && err.cause ? err.cause.code || err.cause.message : err && err.message;
    console.error(`GET ${url} failed: ${timedOut ? 'timeout' : cause}`);
    return { notes: [], error: `the notes API ${timedOut ? 'timed out' : 'is unreachable'}` };
  }
}
