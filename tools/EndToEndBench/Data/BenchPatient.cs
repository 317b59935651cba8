using System.Globalization;

namespace ServerlessImaging.EndToEndBench.Data;

/// <summary>
/// A synthetic patient unique to one run: upper-case ASCII names (dcmqrscp matches case-sensitively), a random birth
/// date and sex, no INS. Nothing real; the names only have to be unique so a registration matches nothing else.
/// </summary>
internal sealed record BenchPatient(string FamilyName, string FirstName, DateOnly BirthDate, string Sex)
{
    /// <summary>Matches every bench patient's DICOM name (Orthanc wildcard), so a run can clear what runs left.</summary>
    public const string NamePattern = "BENCH*";

    /// <summary>DICOM Patient's Name (family^given).</summary>
    public string DicomName => FamilyName + "^" + FirstName;

    /// <summary>A pseudonymous label for output (never the names).</summary>
    public string Label => "patient " + FamilyName[^6..].ToLowerInvariant();

    /// <summary>A patient whose names carry six random letters each after a fixed prefix.</summary>
    public static BenchPatient Create(Random random, string firstNamePrefix)
    {
        ArgumentNullException.ThrowIfNull(random);
        return new BenchPatient(
            "BENCH" + Letters(random, 6),
            firstNamePrefix + Letters(random, 6),
            new DateOnly(1925, 1, 1).AddDays(random.Next(0, 365 * 75)),
            random.Next(2) == 0 ? "F" : "M");
    }

    /// <summary>The registration's patient block (the API's JSON shape).</summary>
    public object ToRegistrationPatient() => new
    {
        birthName = FamilyName,
        usageName = (string?)null,
        firstName = FirstName,
        birthDate = BirthDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        sex = Sex == "F" ? "Female" : "Male",
        ins = (object?)null,
    };

    private static string Letters(Random random, int count) =>
        string.Create(count, random, static (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)('A' + r.Next(26));
            }
        });
}
