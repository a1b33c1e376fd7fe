import { PGlite } from '@electric-sql/pglite';
const pg = await PGlite.create({ dataDir: process.argv[2] });
console.log(process.argv[3], 'opened', (await pg.query('select count(*)::int c from t')).rows[0]);
if (process.argv[3] === 'hold') await new Promise(r => setTimeout(r, 5000));
await pg.close(); console.log(process.argv[3], 'closed');
