namespace ServerlessImaging.Orchestration.Validation;

/// <summary>
/// One invalid field. <see cref="Field"/> is a JSON-style path (<c>patient.birthDate</c>), <see cref="Code"/>
/// a stable machine code, <see cref="Message"/> English text that never echoes the submitted value
/// (it may be patient data). The HTTP layer maps a list of these to problem+json.
/// </summary>
public sealed record FieldError(string Field, string Code, string Message);

/// <summary>Collects <see cref="FieldError"/>s while a validator walks an object.</summary>
public sealed class ValidationErrors
{
    private readonly List<FieldError> errors = [];

    /// <summary>Errors found so far, in the order they were found.</summary>
    public IReadOnlyList<FieldError> Errors => errors;

    /// <summary>True when nothing was reported.</summary>
    public bool IsValid => errors.Count == 0;

    /// <summary>Reports an error.</summary>
    public void Add(string field, string code, string message) => errors.Add(new FieldError(field, code, message));

    /// <summary>Reports <paramref name="code"/> when <paramref name="condition"/> is false; returns the condition.</summary>
    public bool Require(bool condition, string field, string code, string message)
    {
        if (!condition)
        {
            Add(field, code, message);
        }

        return condition;
    }

    /// <summary>Requires a non-blank string of at most <paramref name="maxLength"/> characters.</summary>
    public bool RequireText(string? value, string field, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(field, "required", "A value is required.");
            return false;
        }

        return Require(value.Length <= maxLength, field, "too_long", $"At most {maxLength} characters.");
    }
}
