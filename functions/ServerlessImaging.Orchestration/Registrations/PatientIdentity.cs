namespace ServerlessImaging.Orchestration.Registrations;

/// <summary>Administrative sex as the RCP software and DICOM (0010,0040) know it.</summary>
public enum PatientSex
{
    /// <summary>DICOM "F".</summary>
    Female,

    /// <summary>DICOM "M".</summary>
    Male,

    /// <summary>DICOM "O".</summary>
    Other,
}

/// <summary>
/// The strong identity traits of the patient (Proxymage "traits forts"): birth name, usage name if any,
/// first name, birth date, sex; plus the INS when the RCP software knows it.
/// </summary>
public sealed record PatientIdentity(
    string BirthName,
    string? UsageName,
    string FirstName,
    DateOnly BirthDate,
    PatientSex Sex,
    Ins? Ins)
{
    /// <summary>The DICOM code of <see cref="Sex"/>.</summary>
    public string SexCode => Sex switch
    {
        PatientSex.Female => "F",
        PatientSex.Male => "M",
        _ => "O",
    };

    /// <summary>Redacted: this record is patient data and must never reach a log.</summary>
    public override string ToString() => "PatientIdentity { redacted }";
}

/// <summary>
/// French national health identifier (INS): the matricule (NIR or NIA, 15 characters including the key)
/// with the OID of its assigning authority.
/// </summary>
public sealed record Ins(string Matricule, string Oid)
{
    /// <summary>OID of production INS (NIR/NIA).</summary>
    public const string ProductionOid = "1.2.250.1.213.1.4.8";

    /// <summary>OID of test INS, never equal to a production one.</summary>
    public const string TestOid = "1.2.250.1.213.1.4.10";

    /// <summary>True when <paramref name="oid"/> is an INS authority.</summary>
    public static bool IsInsOid(string? oid) => oid is ProductionOid or TestOid;

    /// <summary>
    /// True when <paramref name="matricule"/> is 13 characters (digits; 2A/2B allowed as department)
    /// followed by the 2-digit key 97 - (number mod 97), Corsica counting 2A as 19 and 2B as 18.
    /// </summary>
    public static bool IsValidMatricule(string? matricule)
    {
        if (matricule is not { Length: 15 })
        {
            return false;
        }

        var body = matricule[..13].ToUpperInvariant();
        var department = body.Substring(5, 2);
        var numeric = department switch
        {
            "2A" => string.Concat(body.AsSpan(0, 5), "19", body.AsSpan(7)),
            "2B" => string.Concat(body.AsSpan(0, 5), "18", body.AsSpan(7)),
            _ => body,
        };
        if (!numeric.All(char.IsAsciiDigit) || !matricule[13..].All(char.IsAsciiDigit))
        {
            return false;
        }

        var number = ulong.Parse(numeric, System.Globalization.CultureInfo.InvariantCulture);
        var key = int.Parse(matricule.AsSpan(13), System.Globalization.CultureInfo.InvariantCulture);
        return key == 97 - (int)(number % 97);
    }

    /// <summary>Redacted: the INS is patient data.</summary>
    public override string ToString() => "Ins { redacted }";
}
