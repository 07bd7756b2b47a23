//! The public Alibaba Cloud regions this endpoint answers for.

pub struct Region {
    pub id: &'static str,
    pub name_en: &'static str,
    pub name_zh: &'static str,
}

const fn region(id: &'static str, name_en: &'static str, name_zh: &'static str) -> Region {
    Region {
        id,
        name_en,
        name_zh,
    }
}

pub static REGIONS: &[Region] = &[
    region("cn-qingdao", "China (Qingdao)", "华北1（青岛）"),
    region("cn-beijing", "China (Beijing)", "华北2（北京）"),
    region("cn-zhangjiakou", "China (Zhangjiakou)", "华北3（张家口）"),
    region("cn-huhehaote", "China (Hohhot)", "华北5（呼和浩特）"),
    region("cn-wulanchabu", "China (Ulanqab)", "华北6（乌兰察布）"),
    region("cn-hangzhou", "China (Hangzhou)", "华东1（杭州）"),
    region("cn-shanghai", "China (Shanghai)", "华东2（上海）"),
    region(
        "cn-nanjing",
        "China (Nanjing - Local Region)",
        "华东5（南京-本地地域）",
    ),
    region(
        "cn-fuzhou",
        "China (Fuzhou - Local Region)",
        "华东6（福州-本地地域）",
    ),
    region(
        "cn-wuhan-lr",
        "China (Wuhan - Local Region)",
        "华中1（武汉-本地地域）",
    ),
    region("cn-shenzhen", "China (Shenzhen)", "华南1（深圳）"),
    region("cn-heyuan", "China (Heyuan)", "华南2（河源）"),
    region("cn-guangzhou", "China (Guangzhou)", "华南3（广州）"),
    region("cn-chengdu", "China (Chengdu)", "西南1（成都）"),
    region("cn-hongkong", "China (Hong Kong)", "中国香港"),
    region(
        "cn-shanghai-finance-1",
        "China East 2 Finance",
        "华东2 金融云",
    ),
    region(
        "cn-shenzhen-finance-1",
        "China South 1 Finance",
        "华南1 金融云",
    ),
    region(
        "cn-beijing-finance-1",
        "China North 2 Finance",
        "华北2 金融云",
    ),
    region(
        "cn-north-2-gov-1",
        "China North 2 Ali Gov 1",
        "华北2 阿里政务云1",
    ),
    region("ap-northeast-1", "Japan (Tokyo)", "日本（东京）"),
    region("ap-northeast-2", "South Korea (Seoul)", "韩国（首尔）"),
    region("ap-southeast-1", "Singapore", "新加坡"),
    region(
        "ap-southeast-3",
        "Malaysia (Kuala Lumpur)",
        "马来西亚（吉隆坡）",
    ),
    region(
        "ap-southeast-5",
        "Indonesia (Jakarta)",
        "印度尼西亚（雅加达）",
    ),
    region("ap-southeast-6", "Philippines (Manila)", "菲律宾（马尼拉）"),
    region("ap-southeast-7", "Thailand (Bangkok)", "泰国（曼谷）"),
    region("us-east-1", "US (Virginia)", "美国（弗吉尼亚）"),
    region("us-west-1", "US (Silicon Valley)", "美国（硅谷）"),
    region("na-south-1", "Mexico", "墨西哥"),
    region("eu-west-1", "UK (London)", "英国（伦敦）"),
    region("eu-central-1", "Germany (Frankfurt)", "德国（法兰克福）"),
    region("me-east-1", "UAE (Dubai)", "阿联酋（迪拜）"),
    region("me-central-1", "SAU (Riyadh)", "沙特（利雅得）"),
];

pub fn find(id: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|region| region.id == id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn knows_the_common_regions_and_nothing_else() {
        for id in [
            "cn-hangzhou",
            "cn-shanghai",
            "cn-beijing",
            "ap-southeast-1",
            "eu-central-1",
        ] {
            assert!(super::find(id).is_some(), "{id}");
        }
        assert!(super::find("cn-atlantis").is_none());
        assert!(super::find("CN-HANGZHOU").is_none());
    }
}
