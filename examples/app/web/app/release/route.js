import { NextResponse } from 'next/server';
import { releaseInfo } from '../../lib/release';

// Which release this web process runs; deploys read it to confirm a switch.
export const dynamic = 'force-dynamic';

export function GET() {
  return NextResponse.json(releaseInfo(), {
    headers: { 'cache-control': 'no-store' },
  });
}
