// pgjdbc (Debian libpostgresql-jdbc-java) against a running Augur server:
// DatabaseMetaData (what DBeaver, Metabase and Tableau browse with),
// ResultSetMetaData, a plain query, a prepared query executed past pgjdbc's
// prepareThreshold (binary results from the fifth execution), an ML query.
// Usage: java -cp postgresql.jar Jdbc.java PORT
import java.sql.*;
import java.util.*;

public class Jdbc {
    static int failures = 0;

    static void check(String what, boolean ok, Object detail) {
        System.out.println((ok ? "ok   pgjdbc: " : "FAIL pgjdbc: ") + what + (ok ? "" : " " + detail));
        if (!ok) failures++;
    }

    /** The result's column names, lower case, space-separated. */
    static String columns(ResultSet rs) throws SQLException {
        ResultSetMetaData m = rs.getMetaData();
        StringJoiner j = new StringJoiner(" ");
        for (int i = 1; i <= m.getColumnCount(); i++) j.add(m.getColumnName(i).toLowerCase(Locale.ROOT));
        return j.toString();
    }

    static final String FEATURES = "female, senior_citizen, partner, dependents, tenure, phone_service, "
        + "multiple_lines, internet_service, online_security, online_backup, device_protection, "
        + "tech_support, streaming_tv, streaming_movies, contract, paperless_billing, payment_method, "
        + "monthly_charges, total_charges";

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/augur?user=augur";
        try (Connection conn = DriverManager.getConnection(url)) {
            DatabaseMetaData md = conn.getMetaData();
            check("product name", md.getDatabaseProductName().equals("PostgreSQL"), md.getDatabaseProductName());
            List<String> schemas = new ArrayList<>();
            try (ResultSet rs = md.getSchemas()) { while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM")); }
            check("getSchemas", schemas.contains("public"), schemas);
            Set<String> tables = new TreeSet<>();
            try (ResultSet rs = md.getTables(null, "public", "%", null)) { while (rs.next()) tables.add(rs.getString("TABLE_NAME")); }
            check("getTables", tables.containsAll(List.of("cdnow_orders", "models", "telco_customers")), tables);
            Map<String, String> cols = new LinkedHashMap<>();
            try (ResultSet rs = md.getColumns(null, "public", "telco_customers", "%")) {
                while (rs.next()) cols.put(rs.getString("COLUMN_NAME"), rs.getString("TYPE_NAME") + "/" + rs.getInt("DATA_TYPE"));
            }
            check("getColumns", cols.size() == 21 && "int8/-5".equals(cols.get("customer_id"))
                && "text/12".equals(cols.get("churn")) && "float8/8".equals(cols.get("monthly_charges")), cols);
            // DBeaver's key and index tabs: Augur has no keys or indexes, so no rows,
            // with the columns PostgreSQL 15 answers (pgjdbc 42.5 against it)
            try (ResultSet rs = md.getPrimaryKeys(null, "public", "telco_customers")) {
                check("getPrimaryKeys (none)", !rs.next() && columns(rs).equals(
                    "table_cat table_schem table_name column_name key_seq pk_name"), columns(rs));
            }
            try (ResultSet rs = md.getIndexInfo(null, "public", "telco_customers", false, true)) {
                check("getIndexInfo (none)", !rs.next() && columns(rs).equals("table_cat table_schem table_name "
                    + "non_unique index_qualifier index_name type ordinal_position column_name asc_or_desc "
                    + "cardinality pages filter_condition"), columns(rs));
            }
            String keys = "pktable_cat pktable_schem pktable_name pkcolumn_name fktable_cat fktable_schem "
                + "fktable_name fkcolumn_name key_seq update_rule delete_rule fk_name pk_name deferrability";
            try (ResultSet rs = md.getImportedKeys(null, "public", "telco_customers")) {
                check("getImportedKeys (none)", !rs.next() && columns(rs).equals(keys), columns(rs));
            }
            try (ResultSet rs = md.getExportedKeys(null, "public", "telco_customers")) {
                check("getExportedKeys (none)", !rs.next() && columns(rs).equals(keys), columns(rs));
            }

            try (Statement st = conn.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) AS n, sum(CASE WHEN churn = 'Yes' THEN 1 ELSE 0 END) AS churned FROM telco_customers")) {
                rs.next();
                check("plain query", rs.getLong("n") == 7043 && rs.getLong("churned") == 1869, rs.getLong("n"));
            }
            try (Statement st = conn.createStatement();
                 ResultSet rs = st.executeQuery("SELECT customer_id, churn, monthly_charges FROM telco_customers WHERE customer_id = 1")) {
                ResultSetMetaData rm = rs.getMetaData();
                check("ResultSetMetaData", rm.getColumnCount() == 3 && rm.getColumnTypeName(1).equals("int8")
                    && rm.getColumnTypeName(3).equals("float8") && rm.getColumnName(2).equals("churn"),
                    rm.getColumnTypeName(1) + " " + rm.getColumnTypeName(3));
                rm.isNullable(1);  // sends the pg_attribute lookup by RowDescription table OID / attnum
                rm.isAutoIncrement(1);
            }
            double[] ref = new double[3];
            try (Statement st = conn.createStatement();
                 ResultSet rs = st.executeQuery("SELECT probability FROM ml_predict('churn', 'SELECT * FROM telco_customers WHERE customer_id <= 3') ORDER BY customer_id")) {
                for (int i = 0; i < 3; i++) { rs.next(); ref[i] = rs.getDouble(1); }
            }
            // executions 1..6: pgjdbc switches to a named statement and binary results at the fifth
            try (PreparedStatement ps = conn.prepareStatement("SELECT customer_id, predict_proba('churn', " + FEATURES
                    + ") AS p FROM telco_customers WHERE customer_id <= ? ORDER BY customer_id")) {
                for (int round = 1; round <= 6; round++) {
                    ps.setLong(1, 3);
                    List<Double> got = new ArrayList<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) { if (rs.getLong(1) != got.size() + 1) got.add(-1.0); got.add(rs.getDouble(2)); }
                    }
                    boolean ok = got.size() == 3;
                    for (int i = 0; ok && i < 3; i++) ok = Math.abs(got.get(i) - ref[i]) < 1e-12;
                    check("prepared ML query, execution " + round, ok, got);
                }
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT churn, tenure FROM telco_customers WHERE customer_id = ? AND churn = ?")) {
                ps.setInt(1, 2);
                ps.setString(2, "No");
                try (ResultSet rs = ps.executeQuery()) {
                    check("prepared query with parameters", rs.next() && rs.getString(1).equals("No") && !rs.next(), "");
                }
            }
            try (Statement st = conn.createStatement()) {
                try { st.executeQuery("SELECT * FROM no_such_table"); check("error", false, "no error"); }
                catch (SQLException e) { check("error 42P01", "42P01".equals(e.getSQLState()), e.getSQLState()); }
                check("isValid after an error", conn.isValid(2), "");
            }
        }
        if (failures > 0) { System.out.println(failures + " failures"); System.exit(1); }
        System.out.println("pgjdbc ok");
    }
}
