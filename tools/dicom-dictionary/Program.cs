using ServerlessImaging.DicomDictionaryGenerator;

// Usage: dotnet run --project tools/dicom-dictionary [-- path/to/dicom.dic [output.cs]]
var dic = args.Length > 0 ? args[0] : "/usr/share/libdcmtk17/dicom.dic";
var output = args.Length > 1
    ? args[1]
    : Path.Combine(AppContext.BaseDirectory, "../../../../../functions/ServerlessImaging.Dicom/Dictionary/DicomDictionary.Generated.cs");
if (!File.Exists(dic))
{
    Console.Error.WriteLine($"dicom.dic not found at {dic} (apt-get install dcmtk)");
    return 1;
}
var text = DictionaryGenerator.Generate(await File.ReadAllTextAsync(dic));
await File.WriteAllTextAsync(Path.GetFullPath(output), text);
Console.WriteLine($"wrote {Path.GetFullPath(output)}");
return 0;
