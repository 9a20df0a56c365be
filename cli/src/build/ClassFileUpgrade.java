import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

/**
 * Rewrites, in place, the class files of a jar that are older than Java 6 (major version below 50) as Java 8
 * class files with stack map frames; every other entry is copied as it is.
 *
 * <p>WHY: picocli (and a few annotation-only jars) are compiled for Java 5. JDK 25's ahead-of-time cache and
 * AppCDS cannot hold such classes ("Old class has been linked"), so every start of the portcullis command
 * loaded about 200 picocli classes from the jar and verified them with the old type-inferring verifier. The
 * byte code is unchanged; ASM only computes the frames Java 6+ class files carry and raises the version, which
 * makes the classes cacheable. Run by the cli module's build after the shade plugin made
 * target/portcullis.jar (java ClassFileUpgrade.java JAR, with ASM on the class path).
 */
public final class ClassFileUpgrade {

    private static final int OLDEST_CACHEABLE = 50;

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: java ClassFileUpgrade.java JAR");
            System.exit(2);
        }
        Path jar = Path.of(args[0]);
        Path upgraded = jar.resolveSibling(jar.getFileName() + ".upgrading");
        int count = 0;
        try (ZipFile in = new ZipFile(jar.toFile());
                URLClassLoader classes = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null);
                ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(upgraded))) {
            Enumeration<? extends ZipEntry> entries = in.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                byte[] bytes;
                try (InputStream stream = in.getInputStream(entry)) {
                    bytes = stream.readAllBytes();
                }
                if (entry.getName().endsWith(".class") && majorVersion(bytes) < OLDEST_CACHEABLE) {
                    bytes = upgrade(bytes, classes);
                    count++;
                }
                ZipEntry copy = new ZipEntry(entry.getName());
                copy.setTime(entry.getTime());
                out.putNextEntry(copy);
                out.write(bytes);
                out.closeEntry();
            }
        }
        Files.move(upgraded, jar, StandardCopyOption.REPLACE_EXISTING);
        System.out.println("ClassFileUpgrade: " + count + " class files of " + jar + " upgraded to Java 8");
    }

    private static int majorVersion(byte[] classFile) {
        return ((classFile[6] & 0xff) << 8) | (classFile[7] & 0xff);
    }

    private static byte[] upgrade(byte[] classFile, ClassLoader classes) {
        ClassReader reader = new ClassReader(classFile);
        // COMPUTE_FRAMES needs common super classes of the jar's own types: ask a loader over the jar (the
        // classes are only loaded, not initialized). It fails on JSR/RET, which javac has not emitted since 1.6.
        ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_FRAMES) {
            @Override
            protected ClassLoader getClassLoader() {
                return classes;
            }
        };
        reader.accept(
                new org.objectweb.asm.ClassVisitor(Opcodes.ASM9, writer) {
                    @Override
                    public void visit(
                            int version,
                            int access,
                            String name,
                            String signature,
                            String superName,
                            String[] interfaces) {
                        super.visit(Opcodes.V1_8, access, name, signature, superName, interfaces);
                    }
                },
                ClassReader.SKIP_FRAMES);
        return writer.toByteArray();
    }
}
