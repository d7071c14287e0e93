// node-postgres (`pg`) against a running Augur server: connect, browse the
// schema, plain query, prepared query with parameters, ML query; rows checked.
// Usage: NODE_PATH=<dir with node_modules> node node_pg.js PORT
const { Client } = require('pg');
const assert = require('assert');

const FEATURES = 'female, senior_citizen, partner, dependents, tenure, phone_service, ' +
  'multiple_lines, internet_service, online_security, online_backup, device_protection, ' +
  'tech_support, streaming_tv, streaming_movies, contract, paperless_billing, payment_method, ' +
  'monthly_charges, total_charges';

async function main() {
  const client = new Client({ host: '127.0.0.1', port: Number(process.argv[2]), database: 'augur', user: 'augur' });
  await client.connect();
  try {
    // browse: tables (incl. models) and columns with their types
    const t = await client.query("SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r','v') ORDER BY 1");
    const names = t.rows.map((r) => r.relname);
    for (const n of ['cdnow_orders', 'models', 'telco_customers']) assert(names.includes(n), `table ${n} in ${names}`);
    const c = await client.query("SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON a.attrelid = c.oid WHERE c.relname = $1 AND a.attnum > 0 ORDER BY a.attnum", ['telco_customers']);
    assert.deepStrictEqual(c.rows.slice(0, 2), [{ attname: 'customer_id', type: 'bigint' }, { attname: 'churn', type: 'text' }]);
    assert.strictEqual(c.rows.length, 21);
    // plain query (int8 comes back as a string in node-postgres)
    const p = await client.query("SELECT count(*) AS n, sum(CASE WHEN churn = 'Yes' THEN 1 ELSE 0 END) AS churned FROM telco_customers");
    assert.deepStrictEqual(p.rows, [{ n: '7043', churned: '1869' }]);
    // named prepared statement with parameters, executed twice
    for (const id of [2, 3]) {
      const q = await client.query({ name: 'one', text: 'SELECT customer_id, monthly_charges FROM telco_customers WHERE customer_id = $1', values: [id] });
      assert.strictEqual(q.rows.length, 1);
      assert.strictEqual(Number(q.rows[0].customer_id), id);
      assert.strictEqual(typeof q.rows[0].monthly_charges, 'number');
    }
    // ML query: predict_proba agrees with ml_predict
    const ref = await client.query("SELECT customer_id, probability FROM ml_predict('churn', 'SELECT * FROM telco_customers WHERE customer_id <= 3') ORDER BY customer_id");
    const ml = await client.query({ name: 'ml', text: `SELECT customer_id, predict_proba('churn', ${FEATURES}) AS p FROM telco_customers WHERE customer_id <= $1 ORDER BY customer_id`, values: [3] });
    assert.deepStrictEqual(ml.rows.map((r) => Number(r.customer_id)), [1, 2, 3]);
    ml.rows.forEach((r, i) => {
      assert(r.p > 0 && r.p < 1);
      assert(Math.abs(r.p - ref.rows[i].probability) < 1e-12, `${r.p} vs ${ref.rows[i].probability}`);
    });
    // an error leaves the connection usable
    await assert.rejects(client.query('SELECT * FROM no_such_table'), (e) => e.code === '42P01');
    const one = await client.query('SELECT 1::int4 AS one');
    assert.deepStrictEqual(one.rows, [{ one: 1 }]);
    console.log('node-postgres ok');
  } finally {
    await client.end();
  }
}

main().catch((e) => { console.error('FAIL node-postgres:', e); process.exit(1); });
