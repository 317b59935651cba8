using System.Text;

namespace ServerlessImaging.Adapters.Cosmos;

/// <summary>
/// Cosmos DB item ids may not contain '/', '\', '?' or '#', but our ids do (command and timer ids are paths).
/// Those characters and '%' are percent-encoded, which keeps ids readable and the mapping reversible.
/// </summary>
internal static class CosmosIds
{
    public static string Encode(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (id.AsSpan().IndexOfAny("/\\?#%") < 0)
        {
            return id;
        }

        var builder = new StringBuilder(id.Length + 16);
        foreach (var c in id)
        {
            _ = c switch
            {
                '/' => builder.Append("%2F"),
                '\\' => builder.Append("%5C"),
                '?' => builder.Append("%3F"),
                '#' => builder.Append("%23"),
                '%' => builder.Append("%25"),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }
}
