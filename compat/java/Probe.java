import java.sql.*;
import java.util.*;

// JDBC probe: java -cp DRIVER.jar Probe.java URL
public class Probe {
    static int fails = 0;
    interface Body { void run() throws Exception; }
    static void check(String name, Body b) {
        try { b.run(); System.out.println("ok   " + name); }
        catch (Throwable e) { fails++; System.out.println("FAIL " + name + " - " + e); }
    }
    static void eq(Object a, Object b, String what) {
        if (!Objects.equals(String.valueOf(a), String.valueOf(b))) throw new RuntimeException(what + ": got " + a + ", want " + b);
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        boolean pg = url.startsWith("jdbc:postgresql");
        Connection c = DriverManager.getConnection(url, "app", "app-secret");
        check("ddl", () -> {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS payments");
                s.execute("DROP TABLE IF EXISTS accounts");
                s.execute("DROP TABLE IF EXISTS notes");
                if (pg) {
                    s.execute("CREATE TABLE accounts (id bigint PRIMARY KEY, name text, balance numeric(12,2), created timestamp DEFAULT now())");
                    s.execute("CREATE TABLE payments (id bigserial, account_id bigint NOT NULL, amount numeric(12,2), PRIMARY KEY (account_id, id))");
                    s.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text)");
                } else {
                    s.execute("CREATE TABLE accounts (id BIGINT PRIMARY KEY, name VARCHAR(64), balance DECIMAL(12,2), created DATETIME DEFAULT CURRENT_TIMESTAMP)");
                    s.execute("CREATE TABLE payments (id BIGINT AUTO_INCREMENT, account_id BIGINT NOT NULL, amount DECIMAL(12,2), PRIMARY KEY (id, account_id))");
                    s.execute("CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT)");
                }
            }
        });
        check("batch insert across shards", () -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO accounts (id, name, balance) VALUES (?, ?, ?)")) {
                for (int i = 1; i <= 20; i++) {
                    ps.setLong(1, i); ps.setString(2, "a" + i); ps.setBigDecimal(3, new java.math.BigDecimal(i * 10.5).setScale(2));
                    ps.addBatch();
                }
                int[] r = ps.executeBatch();
                int sum = 0; for (int x : r) sum += (x == Statement.SUCCESS_NO_INFO ? 1 : x);
                eq(sum, 20, "batch counts " + Arrays.toString(r));
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM accounts")) { rs.next(); eq(rs.getLong(1), 20, "count"); }
        });
        check("prepared point select x10 (server prepare after threshold)", () -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT name, balance FROM accounts WHERE id = ?")) {
                for (int i = 1; i <= 10; i++) {
                    ps.setLong(1, i);
                    try (ResultSet rs = ps.executeQuery()) { rs.next(); eq(rs.getString(1), "a" + i, "name"); eq(rs.getBigDecimal(2), new java.math.BigDecimal(i * 10.5).setScale(2), "balance"); }
                }
            }
        });
        check("scatter order by limit prepared x8", () -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM accounts ORDER BY balance DESC LIMIT ?")) {
                for (int k = 0; k < 8; k++) {
                    ps.setInt(1, 3);
                    List<Long> ids = new ArrayList<>();
                    try (ResultSet rs = ps.executeQuery()) { while (rs.next()) ids.add(rs.getLong(1)); }
                    eq(ids, List.of(20L, 19L, 18L), "ids");
                }
            }
        });
        check("scatter aggregates prepared x8", () -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*), sum(balance), max(created) FROM accounts WHERE id > ?")) {
                for (int k = 0; k < 8; k++) {
                    ps.setLong(1, 10);
                    try (ResultSet rs = ps.executeQuery()) { rs.next(); eq(rs.getLong(1), 10, "count"); eq(rs.getBigDecimal(2), "1627.50", "sum"); if (rs.getTimestamp(3) == null) throw new RuntimeException("max null"); }
                }
            }
        });
        check("transaction (autocommit off) commit", () -> {
            c.setAutoCommit(false);
            try (PreparedStatement u = c.prepareStatement("UPDATE accounts SET balance = balance - 5 WHERE id = ?");
                 PreparedStatement ins = c.prepareStatement("INSERT INTO payments (account_id, amount) VALUES (?, ?)", Statement.RETURN_GENERATED_KEYS)) {
                u.setLong(1, 3); eq(u.executeUpdate(), 1, "update");
                ins.setLong(1, 3); ins.setBigDecimal(2, new java.math.BigDecimal("5.00")); eq(ins.executeUpdate(), 1, "insert");
                try (ResultSet k = ins.getGeneratedKeys()) { if (!k.next() || k.getLong(1) < 1) throw new RuntimeException("no generated key"); }
            }
            c.commit();
            c.setAutoCommit(true);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT balance FROM accounts WHERE id = 3")) { rs.next(); eq(rs.getBigDecimal(1), "26.50", "balance"); }
        });
        check("transaction rollback", () -> {
            c.setAutoCommit(false);
            try (PreparedStatement u = c.prepareStatement("UPDATE accounts SET name = ? WHERE id = ?")) { u.setString(1, "zzz"); u.setLong(2, 4); u.executeUpdate(); }
            c.rollback();
            c.setAutoCommit(true);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT name FROM accounts WHERE id = 4")) { rs.next(); eq(rs.getString(1), "a4", "name"); }
        });
        check("many transactions with prepared statements (threshold crossing)", () -> {
            for (int k = 0; k < 12; k++) {
                c.setAutoCommit(false);
                try (PreparedStatement u = c.prepareStatement("UPDATE accounts SET balance = balance + 1 WHERE id = ?")) { u.setLong(1, 1 + k % 20); eq(u.executeUpdate(), 1, "update"); }
                c.commit();
            }
            c.setAutoCommit(true);
        });
        check("error passes through and connection stays usable", () -> {
            try (Statement s = c.createStatement()) {
                try { s.executeQuery("SELECT nosuch FROM accounts WHERE id = 1"); throw new RuntimeException("no error"); }
                catch (SQLException e) { if (pg ? !"42703".equals(e.getSQLState()) : e.getErrorCode() != 1054) throw e; }
                try (ResultSet rs = s.executeQuery("SELECT name FROM accounts WHERE id = 1")) { rs.next(); eq(rs.getString(1), "a1", "name"); }
            }
        });
        check("unsharded generated keys", () -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO notes (body) VALUES (?)", Statement.RETURN_GENERATED_KEYS)) {
                ps.setString(1, "n1"); ps.executeUpdate();
                try (ResultSet k = ps.getGeneratedKeys()) { if (!k.next() || k.getLong(1) < 1) throw new RuntimeException("no key"); }
            }
        });
        check("metadata: tables and columns", () -> {
            DatabaseMetaData md = c.getMetaData();
            System.out.println("     server " + md.getDatabaseProductName() + " " + md.getDatabaseProductVersion());
            int n = 0;
            try (ResultSet rs = md.getColumns(null, null, "accounts", null)) { while (rs.next()) n++; }
            eq(n, 4, "columns of accounts");
        });
        check("resultset metadata of scatter", () -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id, name FROM accounts ORDER BY id LIMIT 2")) {
                ResultSetMetaData m = rs.getMetaData();
                eq(m.getColumnCount(), 2, "cols"); eq(m.getColumnName(2), "name", "col name");
                rs.next(); eq(rs.getLong(1), 1, "first");
            }
        });
        check("setFetchSize streaming read (autocommit off)", () -> {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM accounts WHERE id = ?")) {
                ps.setFetchSize(1); ps.setLong(1, 6);
                try (ResultSet rs = ps.executeQuery()) { int n = 0; while (rs.next()) n++; eq(n, 1, "rows"); }
            }
            c.commit();
            c.setAutoCommit(true);
        });
        check("large batch of 500 updates", () -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE accounts SET balance = balance + 0 WHERE id = ?")) {
                for (int i = 0; i < 500; i++) { ps.setLong(1, 1 + i % 20); ps.addBatch(); }
                int[] r = ps.executeBatch();
                eq(r.length, 500, "results");
            }
        });
        // Spring's @Transactional(readOnly = true) calls setReadOnly(true):
        // pgjdbc then begins with BEGIN READ ONLY. MariaDB Connector/J 2.x
        // sends nothing for it (outside its failover modes), so a MySQL
        // application says SET SESSION TRANSACTION READ ONLY itself. Either
        // way the transaction may read every shard under single_shard, and
        // refuses writes.
        check("read-only transaction reads every shard (setReadOnly)", () -> {
            c.setReadOnly(true);
            if (!pg) try (Statement s = c.createStatement()) { s.execute("SET SESSION TRANSACTION READ ONLY"); }
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM accounts")) { rs.next(); eq(rs.getLong(1), 20, "count"); }
                try { s.executeUpdate("UPDATE accounts SET name = 'ro' WHERE id = 1"); throw new RuntimeException("a write in a read-only transaction went through"); }
                catch (SQLException e) { /* refused: by the server or the proxy */ }
            }
            c.rollback();
            c.setAutoCommit(true);
            c.setReadOnly(false);
            if (!pg) try (Statement s = c.createStatement()) { s.execute("SET SESSION TRANSACTION READ WRITE"); }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT name FROM accounts WHERE id = 1")) { rs.next(); eq(rs.getString(1), "a1", "name"); }
        });
        c.close();
        System.out.println(fails > 0 ? fails + " FAILED" : "all ok");
        System.exit(fails > 0 ? 1 : 0);
    }
}
