// Drives KX's Java client (javakdb) for qwire's cross-checks. Our code,
// compiled against the javakdb jar by tools/javakdb.sh.
//
//   corpus          print "name<TAB>plain-hex<TAB>zip-hex" for every corpus object
//   check           read "name<TAB>message-hex" lines (qwire's messages), decode each
//                   with javakdb, re-serialize, compare with javakdb's own bytes
//   client PORT     query a kdb+ echo server with every corpus object, compare echoes
//   server          serve one kdb+ client: print the port, echo every sync request
//   query PORT EXPR...            answers, a line each (a table as "table ROWS")
//   rows PORT USER:PASS EXPR...   answers, a table as its names and a line per row
//   bench-codec FILE WARMUP REPS  time javakdb on the message in FILE (qwire-perf
//                                 kdb-codec --peer javakdb): per repetition, lines
//                                 "encode|decode|compress|decompress SECONDS"
//   bench-query PORT QUERIES      sync queries of a long atom, one at a time:
//                                 "queries/s Q" and "round trip us p50 U"
import com.kx.c;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

public class KdbDriver {
    static final Map<String, Object> corpus = new LinkedHashMap<>();

    static void add(String name, Object o) {
        if (corpus.put(name, o) != null) throw new IllegalStateException("duplicate " + name);
    }

    static void buildCorpus() {
        Random rnd = new Random(20261121L);
        // Atoms, with nulls and infinities.
        add("bool0", false); add("bool1", true);
        add("guid", UUID.fromString("8c680a01-5a49-5aab-5a65-d4bfddb6a661"));
        add("guid_null", new UUID(0, 0));
        add("byte", (byte) 0x2a); add("byte_ff", (byte) -1);
        short[] shorts = {0, 1, -234, Short.MIN_VALUE, Short.MAX_VALUE, (short) -Short.MAX_VALUE};
        for (short s : shorts) add("short_" + s, s);
        int[] ints = {0, 1, -1, 123456, Integer.MIN_VALUE, Integer.MAX_VALUE, -Integer.MAX_VALUE};
        for (int i : ints) add("int_" + i, i);
        long[] longs = {0L, 1L, -1L, 89421099511627575L, Long.MIN_VALUE, Long.MAX_VALUE, -Long.MAX_VALUE};
        for (long l : longs) add("long_" + l, l);
        float[] reals = {0f, 5.5f, -1.25f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 3.4e38f};
        for (int i = 0; i < reals.length; ++i) add("real_" + i, reals[i]);
        double[] floats = {0.0, 3.234, -2.5e-300, 1e308, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
        for (int i = 0; i < floats.length; ++i) add("float_" + i, floats[i]);
        add("char_a", 'a'); add("char_space", ' '); add("char_latin1", '\u00e9');
        add("sym", "abc"); add("sym_empty", ""); add("sym_long", "quickbrownfoxjumpsoveralazydog");
        add("ts", Instant.parse("2024-01-15T09:30:00.123456789Z"));
        add("ts_epoch", Instant.parse("2000-01-01T00:00:00Z"));
        add("ts_before", Instant.parse("1999-12-31T23:59:59.999999999Z"));
        add("ts_null", c.NULL('p'));
        add("month", new c.Month(12)); add("month_neg", new c.Month(-7)); add("month_null", c.NULL('m'));
        add("date", LocalDate.of(2001, 1, 1)); add("date_neg", LocalDate.of(1970, 1, 1)); add("date_null", c.NULL('d'));
        add("datetime", LocalDateTime.of(2000, 1, 4, 5, 36, 57, 600_000_000)); add("datetime_null", c.NULL('z'));
        add("timespan", new c.Timespan(20217600000000L)); add("timespan_neg", new c.Timespan(-1L));
        add("timespan_null", c.NULL('n'));
        add("minute", new c.Minute(721)); add("minute_null", c.NULL('u'));
        add("second", new c.Second(43500)); add("second_null", c.NULL('v'));
        add("time", LocalTime.of(12, 4, 59, 123_000_000)); add("time_null", c.NULL('t'));
        // Vectors: empty, one, several, with nulls.
        add("bools", new boolean[]{true, false, true}); add("bools_empty", new boolean[0]);
        add("guids", new UUID[]{UUID.fromString("8c680a01-5a49-5aab-5a65-d4bfddb6a661"), new UUID(0, 0), new UUID(-1L, 42L)});
        add("bytes", new byte[]{1, 2, (byte) 0xff}); add("bytes_empty", new byte[0]);
        add("shorts", new short[]{1, Short.MIN_VALUE, 3}); add("shorts_one", new short[]{7});
        add("ints", new int[]{1, Integer.MIN_VALUE, 3}); add("ints_empty", new int[0]);
        add("longs", new long[]{1, Long.MIN_VALUE, 3, Long.MAX_VALUE}); add("longs_one", new long[]{42});
        add("reals", new float[]{1.5f, Float.NaN, -0f}); add("floats", new double[]{3.234, Double.NaN, Double.NEGATIVE_INFINITY});
        add("string", "quick brown fox".toCharArray()); add("string_empty", new char[0]); add("string_one", new char[]{'x'});
        add("syms", new String[]{"the", "quick", "", "fox"}); add("syms_empty", new String[0]);
        add("timestamps", new Instant[]{Instant.parse("2024-01-15T09:30:00Z"), (Instant) c.NULL('p')});
        add("months", new c.Month[]{new c.Month(0), new c.Month(300)});
        add("dates", new LocalDate[]{LocalDate.of(2000, 5, 1), (LocalDate) c.NULL('d'), LocalDate.of(2099, 12, 31)});
        add("datetimes", new LocalDateTime[]{LocalDateTime.of(2010, 5, 3, 0, 0, 1, 234_000_000)});
        add("timespans", new c.Timespan[]{new c.Timespan(1), new c.Timespan(86_400_000_000_000L)});
        add("minutes", new c.Minute[]{new c.Minute(0), new c.Minute(1439)});
        add("seconds", new c.Second[]{new c.Second(0), new c.Second(86399)});
        add("times", new LocalTime[]{LocalTime.of(0, 0), LocalTime.of(23, 59, 59, 999_000_000)});
        // Generated vectors of every numeric type and length, for volume.
        for (int n : new int[]{2, 5, 17, 100}) {
            long[] l = new long[n]; int[] i = new int[n]; double[] d = new double[n]; short[] h = new short[n];
            float[] e = new float[n]; byte[] x = new byte[n]; boolean[] b = new boolean[n]; String[] s = new String[n];
            for (int k = 0; k < n; ++k) {
                l[k] = rnd.nextLong(); i[k] = rnd.nextInt(); d[k] = rnd.nextGaussian() * 1e6; h[k] = (short) rnd.nextInt();
                e[k] = (float) rnd.nextGaussian(); x[k] = (byte) rnd.nextInt(); b[k] = rnd.nextBoolean(); s[k] = "s" + rnd.nextInt(1000);
            }
            add("gen_longs_" + n, l); add("gen_ints_" + n, i); add("gen_floats_" + n, d); add("gen_shorts_" + n, h);
            add("gen_reals_" + n, e); add("gen_bytes_" + n, x); add("gen_bools_" + n, b); add("gen_syms_" + n, s);
        }
        // Mixed and nested lists.
        add("mixed", new Object[]{1L, (short) 2, 3.234, 'x', "sym", "str".toCharArray()});
        add("list_empty", new Object[0]);
        add("nested", new Object[]{new Object[]{1L, new Object[]{"deep", new long[]{1, 2}}}, new int[]{3}});
        add("list_of_strings", new Object[]{"one".toCharArray(), "two".toCharArray(), "three".toCharArray()});
        Object deep = 1L;
        for (int k = 0; k < 30; ++k) deep = new Object[]{deep};
        add("deep30", deep);
        // Dictionaries and tables.
        add("dict", new c.Dict(new String[]{"a", "b"}, new int[]{2, 3}));
        add("dict_mixed", new c.Dict(new String[]{"x", "y"}, new Object[]{"a", 2L}));
        add("dict_long_keys", new c.Dict(new long[]{1, 2, 3}, new String[]{"one", "two", "three"}));
        add("table", new c.Flip(new String[]{"a", "b"}, new Object[]{new int[]{2}, new int[]{3}}));
        add("trade", new c.Flip(new String[]{"time", "sym", "price", "size"}, new Object[]{
            new c.Timespan[]{new c.Timespan(1), new c.Timespan(2)}, new String[]{"IBM", "MSFT"},
            new double[]{101.5, 27.25}, new long[]{100, 200}}));
        add("table_strings", new c.Flip(new String[]{"name", "note"}, new Object[]{
            new String[]{"Dent", "Beeblebrox"}, new Object[]{"Arthur".toCharArray(), "Zaphod".toCharArray()}}));
        add("keyed_table", new c.Dict(new c.Flip(new String[]{"sym"}, new Object[]{new String[]{"a", "b"}}),
                                      new c.Flip(new String[]{"px"}, new Object[]{new double[]{1.5, 2.5}})));
        add("table_empty", new c.Flip(new String[]{"a"}, new Object[]{new long[0]}));
        // Large vectors, compressible and not, to exercise compression.
        long[] til = new long[10000]; for (int k = 0; k < til.length; ++k) til[k] = k; add("big_til", til);
        long[] same = new long[5000]; Arrays.fill(same, 7L); add("big_same", same);
        String[] syms = new String[8000]; for (int k = 0; k < syms.length; ++k) syms[k] = "SYM" + (k % 13); add("big_syms", syms);
        byte[] noise = new byte[20000]; rnd.nextBytes(noise); add("big_noise", noise);
        char[] text = new char[12000]; for (int k = 0; k < text.length; ++k) text[k] = "the quick brown fox ".charAt(k % 20); add("big_text", text);
        double[] prices = new double[6000]; for (int k = 0; k < prices.length; ++k) prices[k] = 100 + (k % 50) * 0.25; add("big_prices", prices);
        Object[] rows = new Object[300]; for (int k = 0; k < rows.length; ++k) rows[k] = new Object[]{"upd", "trade", (long) k}; add("big_list", rows);
        String[] bigSym = new String[4000]; long[] bigSize = new long[4000]; double[] bigPx = new double[4000];
        for (int k = 0; k < 4000; ++k) { bigSym[k] = k % 2 == 0 ? "IBM" : "MSFT"; bigSize[k] = k % 100; bigPx[k] = 50 + k % 7; }
        add("big_table", new c.Flip(new String[]{"sym", "size", "price"}, new Object[]{bigSym, bigSize, bigPx}));
        // More generated atoms for breadth.
        for (int k = 0; k < 40; ++k) add("gen_long_atom_" + k, rnd.nextLong());
        for (int k = 0; k < 20; ++k) add("gen_float_atom_" + k, rnd.nextDouble() * Math.pow(10, rnd.nextInt(20) - 10));
        for (int k = 0; k < 20; ++k) add("gen_sym_atom_" + k, "sym" + rnd.nextInt());
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length * 2);
        for (byte x : b) sb.append(String.format("%02x", x & 0xff));
        return sb.toString();
    }

    static byte[] unhex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; ++i) b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        return b;
    }

    public static void main(String[] args) throws Exception {
        buildCorpus();
        c ser = new c();
        switch (args[0]) {
            case "corpus":
                for (Map.Entry<String, Object> e : corpus.entrySet()) {
                    byte[] plain = ser.serialize(1, e.getValue(), false);
                    byte[] zip = ser.serialize(1, e.getValue(), true);
                    System.out.println(e.getKey() + "\t" + hex(plain) + "\t" + hex(zip));
                }
                break;
            case "check": {
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
                int ok = 0, bad = 0;
                for (String line; (line = in.readLine()) != null; ) {
                    String[] f = line.split("\t");
                    Object back = ser.deserialize(unhex(f[1]));
                    byte[] mine = ser.serialize(1, corpus.get(f[0]), false);
                    byte[] again = ser.serialize(1, back, false);
                    if (Arrays.equals(mine, again)) ++ok;
                    else { ++bad; System.out.println("mismatch " + f[0] + " " + hex(again)); }
                }
                System.out.println(ok + " ok " + bad + " mismatched");
                System.exit(bad == 0 && ok > 0 ? 0 : 1);
                break;
            }
            case "client": {
                c conn = new c("127.0.0.1", Integer.parseInt(args[1]), args.length > 2 ? args[2] : "");
                int ok = 0, bad = 0;
                for (Map.Entry<String, Object> e : corpus.entrySet()) {
                    Object echo = conn.k(e.getValue());
                    if (Arrays.equals(ser.serialize(1, echo, false), ser.serialize(1, e.getValue(), false))) ++ok;
                    else { ++bad; System.out.println("mismatch " + e.getKey()); }
                }
                conn.close();
                System.out.println(ok + " ok " + bad + " mismatched");
                System.exit(bad == 0 ? 0 : 1);
                break;
            }
            case "query": {
                // query PORT EXPR...: each expression as a sync query, one
                // answer per line: an atom as Java prints it, a table as
                // "table ROWS", an error as 'text.
                c conn = new c("127.0.0.1", Integer.parseInt(args[1]), "");
                for (int i = 2; i < args.length; ++i) {
                    try {
                        Object x = conn.k(args[i]);
                        if (x instanceof c.Flip) System.out.println("table " + c.n(((c.Flip) x).y[0]));
                        else if (x instanceof char[]) System.out.println(new String((char[]) x));
                        else System.out.println(x);
                    } catch (c.KException e) {
                        System.out.println("'" + e.getMessage());
                    }
                }
                conn.close();
                break;
            }
            case "rows": {
                // rows PORT USER:PASSWORD EXPR...: each expression as a sync
                // query; a table as its column names, then a line per row of
                // the cells as Java prints them (space-separated); an error as
                // 'text.
                c conn = new c("127.0.0.1", Integer.parseInt(args[1]), args[2]);
                for (int i = 3; i < args.length; ++i) {
                    try {
                        Object x = conn.k(args[i]);
                        if (!(x instanceof c.Flip)) { System.out.println(x); continue; }
                        c.Flip t = (c.Flip) x;
                        System.out.println(String.join(" ", t.x));
                        for (int r = 0; r < c.n(t.y[0]); ++r) {
                            StringBuilder line = new StringBuilder();
                            for (int col = 0; col < t.y.length; ++col) {
                                if (col > 0) line.append(' ');
                                Object v = c.at(t.y[col], r);
                                line.append(v instanceof char[] ? new String((char[]) v) : String.valueOf(v));
                            }
                            System.out.println(line);
                        }
                    } catch (c.KException e) {
                        System.out.println("'" + e.getMessage());
                    }
                }
                conn.close();
                break;
            }
            case "bench-codec": {
                // The message qwire encoded, as javakdb reads it: the same
                // table on both sides. Each operation runs WARMUP times (the
                // JIT compiles it), then is timed REPS times.
                byte[] msg = java.nio.file.Files.readAllBytes(java.nio.file.Paths.get(args[1]));
                int warmup = Integer.parseInt(args[2]), reps = Integer.parseInt(args[3]);
                Object t = ser.deserialize(msg);
                byte[] zipped = ser.serialize(0, t, true);
                long sink = 0;
                String[] ops = {"encode", "decode", "compress", "decompress"};
                for (String op : ops) {
                    for (int r = 0; r < warmup + reps; ++r) {
                        long t0 = System.nanoTime();
                        switch (op) {
                            case "encode": sink += ser.serialize(0, t, false).length; break;
                            case "decode": sink += ser.deserialize(msg).hashCode(); break;
                            case "compress": sink += ser.serialize(0, t, true).length; break;
                            default: sink += ser.deserialize(zipped).hashCode(); break;
                        }
                        long ns = System.nanoTime() - t0;
                        if (r >= warmup) System.out.println(op + " " + ns / 1e9);
                    }
                }
                System.out.println("checksum " + sink);  // keeps the JIT from dropping the work
                break;
            }
            case "bench-query": {
                c conn = new c("127.0.0.1", Integer.parseInt(args[1]), "");
                int n = Integer.parseInt(args[2]);
                for (int i = 0; i < Math.min(n, 2000); ++i) conn.k(42L);  // the JIT's warm-up
                long[] rtt = new long[n];
                long start = System.nanoTime();
                for (int i = 0; i < n; ++i) {
                    long t0 = System.nanoTime();
                    Object x = conn.k(42L);
                    rtt[i] = System.nanoTime() - t0;
                    if (!(x instanceof Long) || (Long) x != 42L) throw new IllegalStateException("echo " + x);
                }
                double secs = (System.nanoTime() - start) / 1e9;
                conn.close();
                Arrays.sort(rtt);
                System.out.println("queries/s " + n / secs);
                System.out.println("round trip us p50 " + rtt[(n - 1) / 2] / 1e3);
                break;
            }
            case "server": {
                ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                System.out.println(ss.getLocalPort());
                System.out.flush();
                c conn = new c(ss);
                try {
                    for (;;) {
                        Object[] m = conn.readMsg();
                        if ((byte) m[0] == 1) {
                            Object x = m[1];
                            if (x instanceof char[] && new String((char[]) x).equals("fail")) conn.ke("nope");
                            else conn.kr(x);
                        }
                    }
                } catch (java.io.EOFException eof) {
                    // the client left
                }
                break;
            }
            default:
                throw new IllegalArgumentException(args[0]);
        }
    }
}
