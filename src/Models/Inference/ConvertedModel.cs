using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Models.Inference;

/// <summary>The steps every family's loader takes around building its modules from a converted file.</summary>
public static class ConvertedModel
{
    /// <summary>
    /// Opens a converted file and hands <paramref name="load"/> its architecture (as <paramref name="named"/> resolves
    /// the file's "architecture" metadata), its metadata and its float32 weights (<see cref="Float32Weights.IntoStore"/>
    /// gives them to the model); whatever the model did not take is freed afterwards.
    /// </summary>
    public static TModel Open<TArchitecture, TModel>(string path, Func<string, TArchitecture> named,
        Func<TArchitecture, IReadOnlyDictionary<string, string>, Float32Weights, TModel> load)
    {
        using var file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue("architecture", out var name))
            throw new NotSupportedException($"{path} has no 'architecture' in its metadata; convert checkpoints with `nativeseg convert`");
        var architecture = named(name);
        using var weights = Float32Weights.Load(file);
        return load(architecture, file.Metadata, weights);
    }

    /// <summary><paramref name="model"/> compiled for inference at <paramref name="precision"/>; freed when that fails.</summary>
    public static TModel Compiled<TModel>(TModel model, InferencePrecision precision) where TModel : Module
    {
        try
        {
            model.CompileForInference(precision);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The model <paramref name="construct"/> builds from <paramref name="store"/>, which must use every tensor there but
    /// the <paramref name="ignored"/> ones; otherwise the half-built model is freed and the error names the extras.
    /// </summary>
    /// <param name="what">Names the weights' source in errors.</param>
    public static TModel Checked<TModel>(Func<TModel> construct, ParameterStore store, Func<string, bool> ignored, string what, string architecture)
        where TModel : Module =>
        Module.Build(() =>
        {
            var model = construct();
            var unused = store.Unused(ignored);
            if (unused.Count > 0)
                throw new ArgumentException($"{what}: {unused.Count} tensors are not part of {architecture}, e.g. {string.Join(", ", unused.Take(5))}");
            return model;
        });
}
