// Release identity of this process, from the environment set by the slot's
// systemd unit (RELEASE_ID, GIT_SHA). Read at request time, never at build time.
// "unknown" when unset, as the API's /version answers.
export function releaseInfo() {
  return {
    release_id: process.env.RELEASE_ID || 'unknown',
    git_sha: process.env.GIT_SHA || 'unknown',
    component: 'web',
  };
}
