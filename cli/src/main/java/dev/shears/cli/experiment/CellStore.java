package dev.shears.cli.experiment;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sweep's journal: {@code cells.jsonl}, one JSON line per finished cell, appended and fsynced
 * before the sweep moves on, so a kill loses at most the cell in flight. A last line cut short by
 * a kill mid-write is ignored on load and cut off before the next append; a damaged line anywhere
 * else is an error naming the file and line. Cells of another plan fingerprint are kept in the
 * file but not returned. Not a database. Pinned by CellStoreTest and SweepTest.
 */
final class CellStore {
    static final String FILE = "cells.jsonl";

    private final Path file;
    private boolean checkedTail;

    CellStore(Path dir) {
        this.file = dir.resolve(FILE);
    }

    Path file() {
        return file;
    }

    /** What is on disk: the latest record per key for {@code fingerprint}, and how many records belong to other plans. */
    record Loaded(Map<String, CellResult> cells, int foreign, boolean truncatedTail) {}

    Loaded load(String fingerprint) {
        Map<String, CellResult> out = new LinkedHashMap<>();
        if (!Files.exists(file)) return new Loaded(out, 0, false);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        String[] lines = text.split("\n", -1);
        int foreign = 0;
        boolean truncated = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) continue;
            boolean last = i == lines.length - 1; // no newline after it: possibly cut short by a kill
            CellResult c;
            try {
                JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                c = CellResult.parse(o);
            } catch (RuntimeException e) {
                if (last) {
                    truncated = true;
                    continue;
                }
                throw new IllegalArgumentException(file + " line " + (i + 1) + " is not a cell record (" + e.getMessage()
                        + "); fix or delete that line to resume");
            }
            if (!c.fingerprint().equals(fingerprint)) {
                foreign++;
                continue;
            }
            out.put(c.key(), c);
        }
        return new Loaded(out, foreign, truncated);
    }

    /** Appends one finished cell and forces it to disk. */
    void append(CellResult c) {
        byte[] line = (c.json().toString() + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
                if (!checkedTail) {
                    cutPartialTail(ch);
                    checkedTail = true;
                }
                ch.position(ch.size());
                ByteBuffer b = ByteBuffer.wrap(line);
                while (b.hasRemaining()) ch.write(b);
                ch.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file + ": " + e.getMessage(), e);
        }
    }

    /** A file not ending in a newline ends in a line cut short by a kill: drop that fragment. */
    private static void cutPartialTail(FileChannel ch) throws IOException {
        long size = ch.size();
        if (size == 0) return;
        ByteBuffer one = ByteBuffer.allocate(1);
        ch.read(one, size - 1);
        if (one.get(0) == '\n') return;
        long pos = size - 1;
        while (pos > 0) {
            one.clear();
            ch.read(one, pos - 1);
            if (one.get(0) == '\n') break;
            pos--;
        }
        ch.truncate(pos);
    }

    /** Every record in the file, any fingerprint (for tools and tests). */
    List<String> rawLines() {
        try {
            return Files.exists(file) ? new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8)) : new ArrayList<>();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
