import { PGlite } from '@electric-sql/pglite';
import { writeSync } from 'node:fs';
const pg = await PGlite.create({ dataDir: process.argv[2] });
await pg.exec('create table if not exists t (id int primary key, pad text)');
const start = ((await pg.query('select coalesce(max(id),0) as m from t')).rows[0].m);
if (process.argv[3] === 'check') { console.log('max', start, 'count', (await pg.query('select count(*)::int c from t')).rows[0].c); await pg.close(); process.exit(0); }
for (let i = start + 1; ; i++) {
  await pg.query('begin');
  await pg.query('insert into t values ($1, repeat($2, 500))', [i, 'x']);
  await pg.query('commit');
  writeSync(1, `${i}\n`);
}
