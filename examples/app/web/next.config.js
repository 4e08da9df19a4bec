// @ts-check
/**
 * Next.js configuration of notes-web.
 *
 * `output: 'standalone'` makes `next build` write `.next/standalone/` with a
 * `server.js` and only the node_modules it needs: that directory (plus
 * `.next/static` and `public/` copied into it) is the release artifact.
 * @type {import('next').NextConfig}
 */
const nextConfig = {
  output: 'standalone',
  // Trace files from this directory, so server.js lands at the root of
  // .next/standalone whatever lockfiles exist above the build directory.
  outputFileTracingRoot: __dirname,
  poweredByHeader: false,
  reactStrictMode: true,
  // No next/image here: no image optimizer, and sharp's native libraries
  // (about 19 MB) stay out of the artifact.
  images: { unoptimized: true },
  outputFileTracingExcludes: {
    '*': ['node_modules/sharp/**', 'node_modules/@img/**'],
  },
};

module.exports = nextConfig;
