/// The schema, in order. Each feature appends its migrations here; released ones never change.
public enum Migrations {
    public static let all: [Migration] = []
}
