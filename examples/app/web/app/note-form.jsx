'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';

// FastAPI's 422 body: {"detail": [{"loc": ["body", "title"], "msg": "..."}, ...]}
function validationMessage(payload) {
  const detail = payload && payload.detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item) => {
        const field = Array.isArray(item.loc) ? item.loc.filter((p) => p !== 'body').join('.') : '';
        return field ? `${field}: ${item.msg}` : item.msg;
      })
      .join('; ');
  }
  return typeof detail === 'string' ? detail : 'the note is not valid';
}

export default function NoteForm() {
  const router = useRouter();
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [error, setError] = useState(null);
  const [pending, setPending] = useState(false);

  async function onSubmit(event) {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      // Relative URL: nginx sends /api/ to the FastAPI slot, stripping the prefix.
      const response = await fetch('/api/notes', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ title, body }),
      });
      if (response.status === 201) {
        setTitle('');
        setBody('');
        router.refresh();
      } else if (response.status === 422) {
        setError(validationMessage(await response.json().catch(() => null)));
      } else {
        setError(`Could not save the note (HTTP ${response.status}).`);
      }
    } catch {
      setError('Could not reach the notes API.');
    } finally {
      setPending(false);
    }
  }

  return (
    <form className="note-form" onSubmit={onSubmit} data-testid="note-form">
      <label htmlFor="note-title-input">Title</label>
      <input
        id="note-title-input"
        name="title"
        value={title}
        onChange={(event) => setTitle(event.target.value)}
      />
      <label htmlFor="note-body-input">Body</label>
      <textarea
        id="note-body-input"
        name="body"
        rows={3}
        value={body}
        onChange={(event) => setBody(event.target.value)}
      />
      <button type="submit" disabled={pending}>
        {pending ? 'Saving…' : 'Add note'}
      </button>
      {error ? (
        <p className="notice" role="alert" data-testid="form-error">
          {error}
        </p>
      ) : null}
    </form>
  );
}
