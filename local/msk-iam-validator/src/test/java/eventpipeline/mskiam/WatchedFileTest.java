package eventpipeline.mskiam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WatchedFileTest {
    @TempDir
    Path dir;
    private final List<String> reloaded = new ArrayList<>();
    private final List<String> rejected = new ArrayList<>();
    private final AtomicInteger parses = new AtomicInteger();

    /** Parses a file holding one number; anything else is rejected with a message. */
    private WatchedFile<Integer> watch(Path file) throws Exception {
        return WatchedFile.load(file, path -> {
            parses.incrementAndGet();
            String text = Files.readString(path).trim();
            try {
                return Integer.valueOf(text);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' is not a number");
            }
        }, new WatchedFile.Listener<>() {
            @Override
            public void reloaded(Integer value) {
                reloaded.add(String.valueOf(value));
            }

            @Override
            public void rejected(String problem) {
                rejected.add(problem);
            }
        });
    }

    /** Writes a new file and renames it over the old one, as LocalKafka does. */
    private static void replace(Path file, String text) throws Exception {
        Path next = file.resolveSibling(file.getFileName() + ".next");
        Files.writeString(next, text);
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void aReplacedFileIsReadByTheNextCallAndAnUnchangedOneIsNotReadAgain() throws Exception {
        Path file = dir.resolve("n.txt");
        Files.writeString(file, "1");
        WatchedFile<Integer> watched = watch(file);
        for (int i = 0; i < 100; i++) {
            assertEquals(1, watched.current());
        }
        assertEquals(1, parses.get(), "an unchanged file is only stat'ed");
        replace(file, "2");
        assertEquals(2, watched.current());
        replace(file, "3");
        assertEquals(3, watched.current());
        assertEquals(List.of("2", "3"), reloaded);
        assertTrue(rejected.isEmpty());
    }

    @Test
    void aBadVersionIsReportedOnceAndTheLastGoodContentsStay() throws Exception {
        Path file = dir.resolve("n.txt");
        Files.writeString(file, "7");
        WatchedFile<Integer> watched = watch(file);
        replace(file, "seven");
        for (int i = 0; i < 10; i++) {
            assertEquals(7, watched.current());
        }
        assertEquals(List.of("'seven' is not a number; keeping the previous contents"), rejected);
        assertEquals(2, parses.get(), "the bad version was parsed once");
        replace(file, "8");
        assertEquals(8, watched.current());
    }

    @Test
    void aDeletedFileIsReportedOnceAndTheLastGoodContentsStay() throws Exception {
        Path file = dir.resolve("n.txt");
        Files.writeString(file, "5");
        WatchedFile<Integer> watched = watch(file);
        Files.delete(file);
        assertEquals(5, watched.current());
        assertEquals(5, watched.current());
        assertEquals(1, rejected.size());
        assertTrue(rejected.get(0).contains("n.txt cannot be read"), rejected.get(0));
        Files.writeString(file, "6");
        assertEquals(6, watched.current());
    }

    @Test
    void aFileThatIsBadAtTheStartIsAnError() throws Exception {
        Path file = dir.resolve("n.txt");
        Files.writeString(file, "x");
        Exception error = assertThrows(IllegalArgumentException.class, () -> watch(file));
        assertEquals("'x' is not a number", error.getMessage());
    }
}
