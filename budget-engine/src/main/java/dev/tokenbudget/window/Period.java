package dev.tokenbudget.window;

/** How a window is laid on time: a calendar period in a time zone, or a rolling length. */
public enum Period {
    MONTH,
    WEEK,
    DAY,
    ROLLING;

    public boolean isCalendar() {
        return this != ROLLING;
    }
}
