package dev.spindle.remote;

/**
 * A page a child needs is neither served correctly by its parent nor in the fallback store. The
 * child stops with this (a trap), naming the page: it never runs on wrong memory. Unchecked because
 * it surfaces from a page fault inside the guest.
 */
public final class RemotePageException extends RuntimeException {
  public RemotePageException(String message) {
    super(message);
  }
}
