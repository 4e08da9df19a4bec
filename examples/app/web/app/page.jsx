import { fetchNotes } from '../lib/api';
import { releaseInfo } from '../lib/release';
import NoteForm from './note-form';

// Rendered on every request: the notes come from the API at request time.
export const dynamic = 'force-dynamic';

export default async function NotesPage() {
  const { notes, error } = await fetchNotes();
  const { release_id: releaseId } = releaseInfo();

  return (
    <>
      <main>
        <h1>Notes</h1>
        <NoteForm />
        {error ? (
          // The page still answers 200: the web process is healthy, its backend is not.
          <p className="notice" role="alert" data-testid="api-error">
            Notes are unavailable right now: {error}.
          </p>
        ) : notes.length === 0 ? (
          <p data-testid="no-notes">No notes yet.</p>
        ) : (
          <ul className="notes">
            {notes.map((note) => (
              <li key={note.id} data-testid="note">
                <p className="note-title" data-testid="note-title">{note.title}</p>
                {note.body ? <p className="note-body">{note.body}</p> : null}
                {note.created_at ? (
                  <time dateTime={note.created_at}>{note.created_at}</time>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </main>
      <footer>
        Release <span data-testid="release-id">{releaseId}</span>
      </footer>
    </>
  );
}
