package io.portcullis.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * What the CLI prints when a command fails: one line saying what went wrong and where, never a Java
 * stack trace (operators read it; a trace hides the one line that matters). Exit code 1.
 */
final class CommandFailure implements IExecutionExceptionHandler {

    @Override
    public int handleExecutionException(Exception e, CommandLine command, ParseResult parseResult) {
        command.getErr().println("error: " + describe(e));
        command.getErr().flush();
        return 1;
    }

    static String describe(Exception e) {
        return switch (e) {
            case NoSuchFileException missing -> missing.getFile() + ": no such file or directory";
            case AccessDeniedException denied -> denied.getFile() + ": permission denied";
            case NotDirectoryException notDirectory -> notDirectory.getFile() + ": not a directory";
            case FileSystemException other -> other.getFile() + ": " + other.getReason();
            case IOException io -> io.getMessage() != null ? io.getMessage() : io.toString();
            case IllegalArgumentException invalid -> invalid.getMessage();
            default -> "unexpected " + e + " (a bug in portcullis: please report it with the command line)";
        };
    }
}
